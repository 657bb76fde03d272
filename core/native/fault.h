/* Faults the addon meets at run time, where no JavaScript call can return them (fault.c). */
#ifndef PXEKIT_FAULT_H
#define PXEKIT_FAULT_H
#include "addon.h"

/*
 * Tells JavaScript of a fault in environment `env`: its handler (onFault) is called on the event loop with
 * (event, errno). `event` is a log event name (`area.thing`) and must be a string literal. Any thread may
 * call it. Without a handler (none set, or the environment is going away) it goes to stderr instead.
 */
void native_fault(napi_env env, const char *event, int err);
void fault_register(napi_env env, napi_value exports);

#endif
