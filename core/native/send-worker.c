/*
 * The thread that runs sendfile jobs (send-file.c), one per Node.js environment, started by the first job.
 *
 * Why a thread: a boot storm is hundreds of lock-step TFTP transfers and, beside them, HTTP downloads of
 * kernels and initrds. On the event loop, each sendfile call of a download held the loop for a fraction
 * of a millisecond (on a veth or loopback link the receiver's delivery runs inside the sender's call), and
 * every TFTP ACK waiting to be answered waited with it, while the clients, waiting for their next block,
 * left a core idle (`perf sched`: 3-4 % idle against 1 % for dnsmasq + nginx, which are two processes).
 * Here the kernel's work for the bodies runs beside the event loop, as nginx's does beside dnsmasq's.
 *
 * Hand-offs: the main thread queues a job (or a cancel) under the mutex and wakes the thread through an
 * eventfd; the thread waits for writability on all its jobs with its own epoll, pumps each writable one
 * (at most MAX_CALLS_PER_WAKE calls, then the next: fair between downloads), and queues a finished job
 * back, waking the event loop with a uv_async. A job is touched by one thread at a time: the thread from
 * submission until it queues the job as done (it never looks at it again), the main thread after; the
 * only things shared meanwhile are `sent` and `cancelled` (atomics).
 */
#define _GNU_SOURCE
#include "fault.h"
#include "send-file.h"
#include <uv.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct send_worker {
  napi_env env;
  uv_async_t async; /* thread -> event loop: jobs are done (referenced only while jobs are in flight) */
  pthread_t thread;
  int epfd;
  int wakefd; /* event loop -> thread: jobs submitted or cancelled, or stop */
  pthread_mutex_t mu;
  send_job *submitted; /* under mu */
  send_job *done;      /* under mu */
  int cancels;         /* under mu: cancels asked since the thread last looked */
  int stopping;        /* under mu */
  int in_flight;       /* event loop only: jobs not yet reported */
  send_job *running;   /* thread only */
};


static void wake(send_worker *w) {
  uint64_t one = 1;
  ssize_t r;
  do r = write(w->wakefd, &one, sizeof one);
  while (r < 0 && errno == EINTR);
}

static void unlink_running(send_worker *w, send_job *j) {
  if (j->prev != NULL) j->prev->next = j->next;
  else w->running = j->next;
  if (j->next != NULL) j->next->prev = j->prev;
  j->prev = j->next = NULL;
}

/* Thread: the job is over; hand it back to the event loop. The thread never touches it again. */
static void finish_job(send_worker *w, send_job *j, int err) {
  epoll_ctl(w->epfd, EPOLL_CTL_DEL, j->sock, NULL); /* before close: node's descriptor keeps the socket open */
  unlink_running(w, j);
  j->err = err;
  send_job_release(j);
  pthread_mutex_lock(&w->mu);
  j->queued = w->done;
  w->done = j;
  pthread_mutex_unlock(&w->mu);
  uv_async_send(&w->async);
}

/* Thread: takes the jobs submitted since the last look, acts on cancels; 1 when asked to stop. */
static int take_requests(send_worker *w) {
  uint64_t v;
  ssize_t r = read(w->wakefd, &v, sizeof v);
  (void)r;
  pthread_mutex_lock(&w->mu);
  send_job *sub = w->submitted;
  w->submitted = NULL;
  int cancels = w->cancels, stop = w->stopping;
  w->cancels = 0;
  pthread_mutex_unlock(&w->mu);
  for (send_job *j = sub, *nx; j != NULL; j = nx) {
    nx = j->queued;
    j->queued = NULL;
    j->prev = NULL;
    j->next = w->running;
    if (w->running != NULL) w->running->prev = j;
    w->running = j;
    /* Level-triggered: a job that yielded with room left is reported again by the next wait. */
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = j};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, j->sock, &ev) < 0) finish_job(w, j, errno);
  }
  if (cancels > 0)
    for (send_job *j = w->running, *nx; j != NULL; j = nx) {
      nx = j->next;
      if (__atomic_load_n(&j->cancelled, __ATOMIC_ACQUIRE)) finish_job(w, j, ECANCELED);
    }
  return stop;
}

static void *run(void *arg) {
  send_worker *w = arg;
  struct epoll_event evs[64];
  int epoll_failed = 0;
  for (;;) {
    int n = epoll_wait(w->epfd, evs, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      /* Cannot happen with our own epoll fd; if it does, say so once (the HTTP service logs it) and back off
       * instead of spinning. The wake eventfd is then not seen either: stopping is checked here too. */
      if (!epoll_failed) native_fault(w->env, "http.sendfile.wait.failed", errno);
      epoll_failed = 1;
      usleep(100 * 1000);
      pthread_mutex_lock(&w->mu);
      int stop = w->stopping;
      pthread_mutex_unlock(&w->mu);
      if (stop) break;
      continue;
    }
    int requests = 0;
    for (int i = 0; i < n; i++) {
      send_job *j = evs[i].data.ptr;
      if (j == NULL) {
        requests = 1;
        continue;
      }
      if (__atomic_load_n(&j->cancelled, __ATOMIC_ACQUIRE)) {
        finish_job(w, j, ECANCELED);
        continue;
      }
      int r = send_job_pump(j);
      if (r != EAGAIN) finish_job(w, j, r);
    }
    if (requests && take_requests(w)) break;
  }
  return NULL;
}

/* Event loop: report the finished jobs to JavaScript. */
static void on_done(uv_async_t *a) {
  send_worker *w = a->data;
  pthread_mutex_lock(&w->mu);
  send_job *done = w->done;
  w->done = NULL;
  pthread_mutex_unlock(&w->mu);
  for (send_job *j = done, *nx; j != NULL; j = nx) {
    nx = j->queued;
    send_job_report(j);
    if (--w->in_flight == 0) uv_unref((uv_handle_t *)&w->async);
  }
}

static void on_async_closed(uv_handle_t *h) { free(h->data); }

/* The environment is going away: stop the thread, drop what it still had (no callbacks now). */
static void stop_worker(void *arg) {
  send_worker *w = arg;
  pthread_mutex_lock(&w->mu);
  w->stopping = 1;
  pthread_mutex_unlock(&w->mu);
  wake(w);
  pthread_join(w->thread, NULL);
  /* Jobs still running, or done but not yet reported: their callbacks can no longer run. */
  for (send_job *j = w->running, *nx; j != NULL; j = nx) {
    nx = j->next;
    send_job_release(j);
    send_job_discard(j);
  }
  for (send_job *j = w->done, *nx; j != NULL; j = nx) {
    nx = j->queued;
    send_job_discard(j);
  }
  w->running = w->done = NULL;
  napi_set_instance_data(w->env, NULL, NULL, NULL); /* a send after this (none can come) would start afresh */
  close(w->epfd);
  close(w->wakefd);
  uv_close((uv_handle_t *)&w->async, on_async_closed);
}

static send_worker *start_worker(napi_env env) {
  send_worker *w = calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  w->env = env;
  w->epfd = epoll_create1(EPOLL_CLOEXEC);
  w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  uv_loop_t *loop;
  if (w->epfd < 0 || w->wakefd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) < 0 ||
      napi_get_uv_event_loop(env, &loop) != napi_ok || uv_async_init(loop, &w->async, on_done) != 0) {
    int e = errno;
    if (w->epfd >= 0) close(w->epfd);
    if (w->wakefd >= 0) close(w->wakefd);
    free(w);
    errno = e;
    return NULL;
  }
  w->async.data = w;
  uv_unref((uv_handle_t *)&w->async); /* an idle worker does not keep the process alive */
  pthread_mutex_init(&w->mu, NULL);
  int e = pthread_create(&w->thread, NULL, run, w);
  if (e != 0) {
    close(w->epfd);
    close(w->wakefd);
    uv_close((uv_handle_t *)&w->async, on_async_closed);
    errno = e;
    return NULL;
  }
  napi_add_env_cleanup_hook(env, stop_worker, w);
  return w;
}

/* The env's worker lives in the addon's per-environment slot (N-API instance data: nothing else in the addon
 * uses it), so finding it is one call, with no lock and no list of environments. */
send_worker *send_worker_for(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) == napi_ok && data != NULL) return data;
  send_worker *w = start_worker(env);
  if (w != NULL && napi_set_instance_data(env, w, NULL, NULL) != napi_ok) {
    napi_remove_env_cleanup_hook(env, stop_worker, w); /* unreachable in practice; never leave a thread */
    stop_worker(w);                                     /* that nobody can find */
    errno = EINVAL;
    return NULL;
  }
  return w;
}

void send_worker_submit(send_worker *w, send_job *j) {
  j->worker = w;
  if (w->in_flight++ == 0) uv_ref((uv_handle_t *)&w->async); /* a send in flight keeps the process alive */
  pthread_mutex_lock(&w->mu);
  j->queued = w->submitted;
  w->submitted = j;
  pthread_mutex_unlock(&w->mu);
  wake(w);
}

void send_worker_cancel(send_worker *w, send_job *j) {
  __atomic_store_n(&j->cancelled, 1, __ATOMIC_RELEASE);
  pthread_mutex_lock(&w->mu);
  w->cancels++;
  pthread_mutex_unlock(&w->mu);
  wake(w);
}
