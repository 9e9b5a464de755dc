/*
 * Throughput of one libgoldplan client shared by many threads: a measuring harness, not a test
 * (nothing here passes or fails; the numbers depend on the machine). It exists to see what the
 * handle registry's one global mutex (src/memory.rs: every call that takes a handle, returns a
 * response or a string locks it) costs when 16 threads hammer one handle.
 *
 * Each row runs THREADS threads x CALLS calls of a cheap operation, so that the per-call
 * overhead of the C boundary (handle lookup, response registration, runtime entry) dominates:
 *   local    goldplan_call_local("canonical_url"): no client handle; one response handle
 *            (register, two borrows, release: four registry locks)
 *   client   goldplan_client_call(client, "canonical_url"): the client handle's lookup as well,
 *            and the call entering the tokio runtime (block_on)
 *   string   goldplan_canonical_url: no handle at all, one string (the buffer map's lock)
 *   sign     goldplan_signer_sign: one RSA-2048 signature per call, for scale
 *
 * build: cargo build -p goldplan-c && gcc -O2 -std=gnu11 -Ibindings/c/include \
 *          bindings/c/tests/bench_threads.c -Ltarget/debug -lgoldplan -lpthread -o target/bench_threads
 * run:   LD_LIBRARY_PATH=target/debug target/bench_threads CONFIG.json [CALLS]
 *        (CONFIG.json: a client configuration, e.g. a sandbox's sandbox.json; nothing is sent)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "goldplan.h"

typedef enum { LOCAL, CLIENT, STRING, SIGN } op_kind;

typedef struct {
    op_kind kind;
    goldplan_client *client;
    goldplan_signer *signer;
    long calls;
    long failed;
    pthread_barrier_t *start;
} worker;

static const char OP[] = "canonical_url";
static const char ARGS[] = "{\"path_and_query\":\"/v3/goldplan/merchants/changegoldplanstatus?a=1\"}";
static const char PATH[] = "/v3/goldplan/merchants/changegoldplanstatus?a=1";

static void *run(void *p) {
    worker *w = p;
    pthread_barrier_wait(w->start);
    for (long i = 0; i < w->calls; i++) {
        goldplan_status st = GOLDPLAN_STATUS_OK;
        goldplan_response *r = NULL;
        char *s = NULL;
        size_t len = 0;
        const char *json = NULL;
        switch (w->kind) {
        case LOCAL:
            st = goldplan_call_local(OP, strlen(OP), ARGS, strlen(ARGS), &r);
            if (st == GOLDPLAN_STATUS_OK) st = goldplan_response_json(r, &json, &len);
            goldplan_response_free(r);
            break;
        case CLIENT:
            st = goldplan_client_call(w->client, OP, strlen(OP), ARGS, strlen(ARGS), &r);
            if (st == GOLDPLAN_STATUS_OK) st = goldplan_response_json(r, &json, &len);
            goldplan_response_free(r);
            break;
        case STRING:
            st = goldplan_canonical_url(PATH, strlen(PATH), &s, &len);
            goldplan_string_free(s);
            break;
        case SIGN:
            st = goldplan_signer_sign(w->signer, (const uint8_t *)PATH, strlen(PATH), &s, &len);
            goldplan_string_free(s);
            break;
        }
        if (st != GOLDPLAN_STATUS_OK) w->failed++;
    }
    return NULL;
}

static double now_secs(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Calls per second with `threads` threads of `calls` calls each. */
static double measure(op_kind kind, int threads, long calls, goldplan_client *c, goldplan_signer *s) {
    pthread_t tid[64];
    worker w[64];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){kind, c, s, calls, 0, &start};
        pthread_create(&tid[i], NULL, run, &w[i]);
    }
    pthread_barrier_wait(&start);
    double t0 = now_secs();
    long failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        failed += w[i].failed;
    }
    double elapsed = now_secs() - t0;
    pthread_barrier_destroy(&start);
    if (failed) fprintf(stderr, "%ld calls failed\n", failed);
    return (double)threads * (double)calls / elapsed;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CONFIG.json [CALLS]\n", argv[0]);
        return 2;
    }
    long calls = argc > 2 ? atol(argv[2]) : 20000;
    goldplan_client *c = NULL;
    goldplan_signer *s = NULL;
    if (goldplan_client_new_from_file(argv[1], strlen(argv[1]), &c) != GOLDPLAN_STATUS_OK) {
        fprintf(stderr, "cannot create the client from %s\n", argv[1]);
        return 1;
    }
    FILE *f = fopen(argv[1], "rb");
    char cfg[65536];
    size_t n = f ? fread(cfg, 1, sizeof cfg, f) : 0;
    if (f) fclose(f);
    if (goldplan_signer_new(cfg, n, &s) != GOLDPLAN_STATUS_OK) {
        fprintf(stderr, "cannot create the signer from %s\n", argv[1]);
        return 1;
    }
    const char *names[] = {"local", "client", "string", "sign"};
    const int counts[] = {1, 2, 16};
    printf("%-8s %14s %14s %14s\n", "op", "1 thread", "2 threads", "16 threads");
    for (int k = 0; k < 4; k++) {
        /* RSA is ~1000x slower: fewer calls keep the run short. */
        long per = k == SIGN ? calls / 100 : calls;
        printf("%-8s", names[k]);
        for (int t = 0; t < 3; t++) {
            /* The same total work in every column. */
            long each = per / counts[t];
            if (each < 1) each = 1;
            printf(" %11.0f/s", measure((op_kind)k, counts[t], each, c, s));
            fflush(stdout);
        }
        printf("\n");
    }
    goldplan_signer_free(s);
    goldplan_client_free(c);
    return 0;
}
