/*
 * The C side of bench/cost.py: one process, one goldplan client (libgoldplan.so, release),
 * making 点金计划管理 calls (OPEN, 200 with a signed JSON body) against a sandbox *process*
 * through goldplan_client_call, and printing the wall time as JSON; bench/cost.py measures
 * the CPU time from outside.
 *
 *   cost_client_c --config sandbox.json --calls N [--concurrency K]
 *
 * With K > 1, K pthreads share the one client (it is thread-safe), each making its share.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "goldplan.h"

static const char OP[] = "change_gold_plan_status";
static const char ARGS[] = "{\"sub_mchid\":\"1900000109\",\"operation_type\":\"OPEN\"}";

static void report_error(const char *what) {
    char *report = NULL;
    size_t len = 0;
    goldplan_last_error_report(&report, &len);
    fprintf(stderr, "cost_client_c: %s failed: %s\n", what, report ? report : "(no report)");
    goldplan_string_free(report);
}

/* One call; the reply must name the sub-merchant, as every surface of the harness checks. */
static int call_once(const goldplan_client *client) {
    goldplan_response *r = NULL;
    if (goldplan_client_call(client, OP, sizeof OP - 1, ARGS, sizeof ARGS - 1, &r) != GOLDPLAN_STATUS_OK) {
        report_error("goldplan_client_call");
        return -1;
    }
    const char *json = NULL;
    size_t len = 0;
    int ok = goldplan_response_json(r, &json, &len) == GOLDPLAN_STATUS_OK &&
             strstr(json, "\"sub_mchid\":\"1900000109\"") != NULL;
    if (!ok) fprintf(stderr, "cost_client_c: unexpected reply: %s\n", json ? json : "(none)");
    goldplan_response_free(r);
    return ok ? 0 : -1;
}

struct worker {
    const goldplan_client *client;
    long share;
    int failed;
};

static void *run_worker(void *arg) {
    struct worker *w = arg;
    for (long i = 0; i < w->share && !w->failed; i++) {
        if (call_once(w->client) != 0) w->failed = 1;
    }
    return NULL;
}

static const char *option(int argc, char **argv, const char *name, const char *fallback) {
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], name)) return argv[i + 1];
    }
    return fallback;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    const char *config = option(argc, argv, "--config", NULL);
    long calls = atol(option(argc, argv, "--calls", "1000"));
    long workers = atol(option(argc, argv, "--concurrency", "1"));
    if (!config || calls < 0) {
        fprintf(stderr, "usage: cost_client_c --config sandbox.json --calls N [--concurrency K]\n");
        return 2;
    }
    if (workers < 1) workers = 1;

    goldplan_client *client = NULL;
    if (goldplan_client_new_from_file(config, strlen(config), &client) != GOLDPLAN_STATUS_OK) {
        report_error("goldplan_client_new_from_file");
        return 1;
    }
    /* Warm: the connection is open and nothing is left lazy before the clock starts. */
    if (call_once(client) != 0) return 1;

    struct worker *ws = calloc((size_t)workers, sizeof *ws);
    pthread_t *ts = calloc((size_t)workers, sizeof *ts);
    if (!ws || !ts) return 1;
    double started = now_s();
    for (long i = 0; i < workers; i++) {
        ws[i].client = client;
        ws[i].share = calls / workers + (i < calls % workers ? 1 : 0);
        if (workers == 1) {
            run_worker(&ws[i]);
        } else if (pthread_create(&ts[i], NULL, run_worker, &ws[i]) != 0) {
            fprintf(stderr, "cost_client_c: pthread_create failed\n");
            return 1;
        }
    }
    int failed = 0;
    for (long i = 0; i < workers; i++) {
        if (workers > 1) pthread_join(ts[i], NULL);
        failed |= ws[i].failed;
    }
    double wall = now_s() - started;
    free(ws);
    free(ts);
    goldplan_client_free(client);
    if (failed) return 1;
    printf("{\"calls\":%ld,\"concurrency\":%ld,\"wall_s\":%.6f}\n", calls, workers, wall);
    return 0;
}
