/*
 * The addon's report path for faults met at run time on its own (a failed io_uring in udp-batch.c, a failed
 * epoll_wait on the sendfile thread): no JavaScript call is there to return them, so without this they
 * would only change behaviour silently. JavaScript sets one handler per environment (onFault); a fault is
 * queued to it through a thread-safe function, so the thread that met it never waits, and the services log
 * it (core/native/faults.ts).
 *
 *   onFault(cb)                 cb(event, errno) on the event loop; replaces an earlier handler
 *   raiseFault(event, errno)    reports a fault from a new thread, as the sendfile thread would
 *                               (tests of the path; event must be one the addon reports)
 */
#define _GNU_SOURCE
#include "fault.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sink {
  napi_env env;
  napi_threadsafe_function fn;
  struct sink *next;
} sink;

typedef struct {
  const char *event; /* a string literal */
  int err;
} fault;

/* The environments with a handler. A short list (one per Node.js thread that set one), under `mu`, so a
 * report from another thread never races the environment's teardown. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static sink *sinks;

static void to_stderr(const char *event, int err) {
  fprintf(stderr, "pxekit native: %s: %s\n", event, strerror(err));
}

void native_fault(napi_env env, const char *event, int err) {
  pthread_mutex_lock(&mu);
  sink *s = sinks;
  while (s != NULL && s->env != env) s = s->next;
  fault *f = s != NULL ? malloc(sizeof *f) : NULL;
  if (f != NULL) {
    f->event = event;
    f->err = err;
    if (napi_call_threadsafe_function(s->fn, f, napi_tsfn_nonblocking) != napi_ok) {
      free(f);
      f = NULL;
    }
  }
  pthread_mutex_unlock(&mu);
  if (f == NULL) to_stderr(event, err);
}

/* On the event loop: the handler gets (event, errno). */
static void call_handler(napi_env env, napi_value cb, void *context, void *data) {
  (void)context;
  fault *f = data;
  if (env != NULL && cb != NULL) {
    napi_value argv[2], undefined;
    napi_create_string_utf8(env, f->event, NAPI_AUTO_LENGTH, &argv[0]);
    napi_create_int32(env, f->err, &argv[1]);
    napi_get_undefined(env, &undefined);
    if (napi_call_function(env, undefined, cb, 2, argv, NULL) == napi_pending_exception) {
      napi_value ignored; /* a throwing handler must not take the process down from here */
      napi_get_and_clear_last_exception(env, &ignored);
      to_stderr(f->event, f->err);
    }
  } else {
    to_stderr(f->event, f->err);
  }
  free(f);
}

/* Unlinks env's sink; the caller releases its function. */
static sink *unlink_sink(napi_env env) {
  sink **at = &sinks;
  while (*at != NULL && (*at)->env != env) at = &(*at)->next;
  sink *s = *at;
  if (s != NULL) *at = s->next;
  return s;
}

static void teardown(void *arg) {
  napi_env env = arg;
  pthread_mutex_lock(&mu);
  sink *s = unlink_sink(env);
  pthread_mutex_unlock(&mu);
  if (s == NULL) return;
  napi_release_threadsafe_function(s->fn, napi_tsfn_abort);
  free(s);
}

static napi_value js_on_fault(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value cb, name;
  napi_valuetype t;
  if (napi_get_cb_info(env, info, &argc, &cb, NULL, NULL) != napi_ok || argc < 1 || napi_typeof(env, cb, &t) != napi_ok ||
      t != napi_function) {
    napi_throw_type_error(env, NULL, "onFault(cb: (event: string, errno: number) => void)");
    return NULL;
  }
  sink *s = calloc(1, sizeof *s);
  napi_create_string_utf8(env, "pxekit:fault", NAPI_AUTO_LENGTH, &name);
  if (s == NULL || napi_create_threadsafe_function(env, cb, NULL, name, 0, 1, NULL, NULL, NULL, call_handler, &s->fn) != napi_ok) {
    free(s);
    napi_throw_error(env, NULL, "onFault: cannot create the report path");
    return NULL;
  }
  napi_unref_threadsafe_function(env, s->fn); /* a handler does not keep the process alive */
  s->env = env;
  pthread_mutex_lock(&mu);
  sink *old = unlink_sink(env);
  s->next = sinks;
  sinks = s;
  pthread_mutex_unlock(&mu);
  if (old != NULL) {
    napi_release_threadsafe_function(old->fn, napi_tsfn_release);
    free(old);
  } else {
    napi_add_env_cleanup_hook(env, teardown, env);
  }
  return NULL;
}

typedef struct {
  napi_env env;
  const char *event;
  int err;
} raise_args;

static void *raise_thread(void *arg) {
  raise_args *a = arg;
  native_fault(a->env, a->event, a->err);
  free(a);
  return NULL;
}

/* The events the addon reports (docs/log-events.md): raiseFault takes only these, as literals. */
static const char *const events[] = {"tftp.batch.fallback", "http.sendfile.wait.failed"};

static napi_value js_raise_fault(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char event[64];
  size_t len;
  int32_t err;
  const char *literal = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == 2 && napi_get_value_string_utf8(env, argv[0], event, sizeof event, &len) == napi_ok &&
      napi_get_value_int32(env, argv[1], &err) == napi_ok)
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
      if (strcmp(event, events[i]) == 0) literal = events[i];
  if (literal == NULL) {
    napi_throw_type_error(env, NULL, "raiseFault(event: 'tftp.batch.fallback' | 'http.sendfile.wait.failed', errno: number)");
    return NULL;
  }
  raise_args *a = malloc(sizeof *a);
  pthread_t t;
  if (a == NULL) {
    napi_throw_error(env, NULL, "raiseFault: out of memory");
    return NULL;
  }
  *a = (raise_args){env, literal, err};
  int e = pthread_create(&t, NULL, raise_thread, a);
  if (e != 0) {
    free(a);
    napi_throw_error(env, NULL, "raiseFault: cannot start a thread");
    return NULL;
  }
  pthread_detach(t);
  return NULL;
}

void fault_register(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
      {"onFault", NULL, js_on_fault, NULL, NULL, NULL, napi_default, NULL},
      {"raiseFault", NULL, js_raise_fault, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
}
