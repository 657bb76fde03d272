/* A sendfile job, shared by send-file.c (the JavaScript API, the pump) and send-worker.c (the thread that
 * runs the jobs). */
#ifndef PXEKIT_SEND_FILE_H
#define PXEKIT_SEND_FILE_H
#include "addon.h"
#include <stdint.h>
#include <stddef.h>

typedef struct send_worker send_worker;

typedef struct send_job {
  int sock;  /* our dup of node's socket descriptor (the worker closes it when the job ends) */
  int file;  /* the caller's file descriptor (not ours to close) */
  int64_t pos;
  int64_t left;
  int64_t sent;   /* read by the main thread (sendFileProgress) while the worker writes it: atomics */
  int cancelled;  /* set by the main thread (atomic), acted on by the worker */
  int err;        /* the outcome, set by the worker before it hands the job back */
  char *head;     /* bytes to send before the body (ours, freed when the job ends) */
  size_t head_len;
  size_t head_off;
  /* Main thread only: the JavaScript callback. */
  napi_env env;
  napi_ref cb;
  napi_async_context actx;
  send_worker *worker;
  /* Worker only: its list of running jobs. */
  struct send_job *prev, *next;
  /* The queue the job is in (submitted, or done), under the worker's mutex. */
  struct send_job *queued;
} send_job;

/* Sends what the socket takes now (at most a bounded amount): 0 when done, EAGAIN to wait for
 * writability, else an errno. Called by the worker thread only. */
int send_job_pump(send_job *j);
/* Ends the job on the worker thread: uncorks and closes the dup, frees the head. */
void send_job_release(send_job *j);
/* The main thread's side of a finished job: calls back into JavaScript, frees the job. */
void send_job_report(send_job *j);
/* Frees a finished (released) job without calling back: its environment is going away. */
void send_job_discard(send_job *j);

/* The env's worker, started on first use; NULL (errno set) when it cannot be. */
send_worker *send_worker_for(napi_env env);
/* Hands a job to the worker (main thread). */
void send_worker_submit(send_worker *w, send_job *j);
/* Asks the worker to stop the job now (main thread); it is reported with ECANCELED. */
void send_worker_cancel(send_worker *w, send_job *j);

#endif
