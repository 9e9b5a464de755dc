/*
 * A tiny JSON reader for the C tests: enough to read the files of tests/vectors, sandbox.json and the
 * library's results. It parses into a tree of nodes; strings are decoded (\uXXXX included, with
 * surrogate pairs) into NUL-terminated buffers that also carry their byte length. Anything it
 * cannot parse makes json_parse return NULL, so a vector that is not read fails the test.
 */
#ifndef TINYJSON_H
#define TINYJSON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jnode {
    jtype type;
    int boolean;
    double num;
    char *str;          /* J_STR: decoded text; also the key of an object member */
    size_t len;         /* J_STR: byte length */
    char *key;          /* member name when inside an object */
    size_t n;           /* J_ARR / J_OBJ: number of children */
    struct jnode **kids;
} jnode;

typedef struct {
    const char *p;
    const char *end;
    int depth;
} jparser;

static void json_free(jnode *n) {
    if (!n) return;
    for (size_t i = 0; i < n->n; i++) json_free(n->kids[i]);
    free(n->kids);
    free(n->str);
    free(n->key);
    free(n);
}

static void j_ws(jparser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t')) ps->p++;
}

static int j_hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static size_t j_utf8(unsigned cp, char *o) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); return 4;
}

/* Parses a string at ps->p (which is '"'); returns a malloc'd buffer and its length. */
static char *j_string(jparser *ps, size_t *len_out) {
    ps->p++; /* opening quote */
    /* The decoded text is never longer than the encoded one. */
    const char *start = ps->p;
    size_t cap = (size_t)(ps->end - start) + 1;
    char *buf = malloc(cap);
    size_t len = 0;
    if (!buf) return NULL;
    while (ps->p < ps->end) {
        char c = *ps->p++;
        if (c == '"') { buf[len] = 0; *len_out = len; return buf; }
        if ((unsigned char)c < 0x20) break;
        if (c != '\\') { buf[len++] = c; continue; }
        if (ps->p >= ps->end) break;
        char e = *ps->p++;
        switch (e) {
        case '"': buf[len++] = '"'; break;
        case '\\': buf[len++] = '\\'; break;
        case '/': buf[len++] = '/'; break;
        case 'b': buf[len++] = '\b'; break;
        case 'f': buf[len++] = '\f'; break;
        case 'n': buf[len++] = '\n'; break;
        case 'r': buf[len++] = '\r'; break;
        case 't': buf[len++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (ps->end - ps->p < 4 || !j_hex4(ps->p, &cp)) goto fail;
            ps->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00) {
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || !j_hex4(ps->p + 2, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    goto fail;
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            len += j_utf8(cp, buf + len);
            break;
        }
        default: goto fail;
        }
    }
fail:
    free(buf);
    return NULL;
}

static jnode *j_value(jparser *ps);

static int j_push(jnode *parent, jnode *kid) {
    jnode **grown = realloc(parent->kids, (parent->n + 1) * sizeof *grown);
    if (!grown) return 0;
    parent->kids = grown;
    parent->kids[parent->n++] = kid;
    return 1;
}

static jnode *j_value(jparser *ps) {
    j_ws(ps);
    if (ps->p >= ps->end || ps->depth > 64) return NULL;
    jnode *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    char c = *ps->p;
    if (c == '{' || c == '[') {
        int obj = c == '{';
        n->type = obj ? J_OBJ : J_ARR;
        ps->p++;
        ps->depth++;
        j_ws(ps);
        if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) { ps->p++; ps->depth--; return n; }
        for (;;) {
            char *key = NULL;
            size_t klen = 0;
            if (obj) {
                j_ws(ps);
                if (ps->p >= ps->end || *ps->p != '"' || !(key = j_string(ps, &klen))) goto fail;
                j_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') { free(key); goto fail; }
                ps->p++;
            }
            jnode *kid = j_value(ps);
            if (!kid) { free(key); goto fail; }
            kid->key = key;
            if (!j_push(n, kid)) { json_free(kid); goto fail; }
            j_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
            if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) { ps->p++; ps->depth--; return n; }
            goto fail;
        }
    }
    if (c == '"') {
        n->type = J_STR;
        if (!(n->str = j_string(ps, &n->len))) goto fail;
        return n;
    }
    if (ps->end - ps->p >= 4 && !memcmp(ps->p, "true", 4)) { n->type = J_BOOL; n->boolean = 1; ps->p += 4; return n; }
    if (ps->end - ps->p >= 5 && !memcmp(ps->p, "false", 5)) { n->type = J_BOOL; ps->p += 5; return n; }
    if (ps->end - ps->p >= 4 && !memcmp(ps->p, "null", 4)) { n->type = J_NULL; ps->p += 4; return n; }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char tmp[64];
        size_t k = 0;
        while (ps->p < ps->end && k < sizeof tmp - 1 && strchr("+-0123456789.eE", *ps->p)) tmp[k++] = *ps->p++;
        tmp[k] = 0;
        char *endp;
        n->type = J_NUM;
        n->num = strtod(tmp, &endp);
        if (*endp) goto fail;
        return n;
    }
fail:
    json_free(n);
    return NULL;
}

/* Parses a whole document; NULL on any error or trailing garbage. */
static jnode *json_parse(const char *text, size_t len) {
    jparser ps = {text, text + len, 0};
    jnode *root = j_value(&ps);
    j_ws(&ps);
    if (root && ps.p != ps.end) { json_free(root); return NULL; }
    return root;
}

/* Member `key` of an object, or NULL. */
static const jnode *jget(const jnode *obj, const char *key) {
    if (!obj || obj->type != J_OBJ) return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (obj->kids[i]->key && !strcmp(obj->kids[i]->key, key)) return obj->kids[i];
    return NULL;
}

/* The string member `key`, or NULL when absent or not a string. */
static const char *jstr(const jnode *obj, const char *key) {
    const jnode *v = jget(obj, key);
    return v && v->type == J_STR ? v->str : NULL;
}

/* Its byte length (0 when absent). */
static size_t jlen(const jnode *obj, const char *key) {
    const jnode *v = jget(obj, key);
    return v && v->type == J_STR ? v->len : 0;
}

/* The number member `key` as int64 (0 when absent). */
static int64_t jint(const jnode *obj, const char *key) {
    const jnode *v = jget(obj, key);
    return v && v->type == J_NUM ? (int64_t)v->num : 0;
}

/* A growing text buffer for json_write. */
typedef struct {
    char *text;
    size_t len;
    size_t cap;
} jbuf;

static void jb_put(jbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *grown = realloc(b->text, cap);
        if (!grown) abort();
        b->text = grown;
        b->cap = cap;
    }
    memcpy(b->text + b->len, s, n);
    b->len += n;
    b->text[b->len] = 0;
}

static void jb_string(jbuf *b, const char *s, size_t n) {
    jb_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') { esc[0] = '\\'; esc[1] = (char)c; jb_put(b, esc, 2); }
        else if (c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", c); jb_put(b, esc, 6); }
        else jb_put(b, (const char *)&s[i], 1);
    }
    jb_put(b, "\"", 1);
}

/* Writes `n` back as compact JSON (object members in their order; integral numbers without a
 * fraction), for arguments a typed function takes as JSON text. */
static void json_write(jbuf *b, const jnode *n) {
    char num[64];
    switch (n->type) {
    case J_NULL: jb_put(b, "null", 4); break;
    case J_BOOL: n->boolean ? jb_put(b, "true", 4) : jb_put(b, "false", 5); break;
    case J_NUM:
        if (n->num == (double)(int64_t)n->num) snprintf(num, sizeof num, "%lld", (long long)n->num);
        else snprintf(num, sizeof num, "%.17g", n->num);
        jb_put(b, num, strlen(num));
        break;
    case J_STR: jb_string(b, n->str, n->len); break;
    case J_ARR:
    case J_OBJ:
        jb_put(b, n->type == J_OBJ ? "{" : "[", 1);
        for (size_t i = 0; i < n->n; i++) {
            if (i) jb_put(b, ",", 1);
            if (n->type == J_OBJ) {
                jb_string(b, n->kids[i]->key, strlen(n->kids[i]->key));
                jb_put(b, ":", 1);
            }
            json_write(b, n->kids[i]);
        }
        jb_put(b, n->type == J_OBJ ? "}" : "]", 1);
        break;
    }
}

#endif
