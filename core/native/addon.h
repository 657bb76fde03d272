/* pxekit's native addon: the parts register their functions on one exports object (addon.c). */
#ifndef PXEKIT_ADDON_H
#define PXEKIT_ADDON_H
#define NAPI_VERSION 8
#include <node_api.h>

void udp_socket_register(napi_env env, napi_value exports);
void file_read_register(napi_env env, napi_value exports);
void send_file_register(napi_env env, napi_value exports);
void dhcp_socket_register(napi_env env, napi_value exports);
void listen_socket_register(napi_env env, napi_value exports);

#endif
