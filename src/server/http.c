/* http.c -- the libmicrohttpd daemon: epoll with a thread pool, keep-alive,
 * body limits, static files from web/, and graceful shutdown.
 *
 * Store connections: kb_data (SQLite handles and cached statements) is not
 * thread-safe, so the server keeps a pool of one kb_data per worker thread;
 * a request takes one for its duration and gives it back.  With as many
 * handles as MHD threads nobody waits, and the mutex is held only to pop and
 * push.  See docs/internals/server.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/batch.h"
#include "auth/token_cache.h"
#include "domain/items.h"
#include "ingest/local_items.h"
#include "portal/report_pdf.h"
#include "server/server.h"
#include "util/asset.h"

typedef struct pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    kb_data **free;
    int n_free, n;
} pool;

/* A trusted reverse proxy: an address and how many leading bits count. */
typedef struct proxy_net {
    int family;
    unsigned char addr[16];
    int bits;
} proxy_net;

#define MAX_PROXIES 32

typedef struct server {
    pool pool;
    proxy_net proxies[MAX_PROXIES];
    int n_proxies;
    const kb_server_opts *o;
    const char *web;
    atomic_int in_flight;
    atomic_int stopping;
} server;

typedef struct conn_state {
    kb_buf body;
    int too_big;
    int counted;
    /* A streamed body (KB_R_STREAM_BODY): written to `path` as it arrives. */
    int fd;
    char path[600];
    size_t streamed;
    int write_failed;
    /* A streamed request refused on its headers: the reply, sent once the
     * (discarded) body has been read. */
    int refused;
    kb_req early;
} conn_state;

static kb_data *pool_take(pool *p) {
    pthread_mutex_lock(&p->lock);
    while (p->n_free == 0) pthread_cond_wait(&p->cond, &p->lock);
    kb_data *d = p->free[--p->n_free];
    pthread_mutex_unlock(&p->lock);
    return d;
}

static void pool_give(pool *p, kb_data *d) {
    pthread_mutex_lock(&p->lock);
    p->free[p->n_free++] = d;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static const char *mime_of(const char *path) {
    const char *dot = strrchr(path, '.');
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".json", "application/json"},
        {".svg", "image/svg+xml"},             {".png", "image/png"},
        {".ico", "image/x-icon"},              {".txt", "text/plain; charset=utf-8"},
        {".xml", "application/xml"},           {".woff2", "font/woff2"}};
    if (dot)
        for (size_t i = 0; i < KB_ARRAY_LEN(types); i++)
            if (strcmp(dot, types[i][0]) == 0) return types[i][1];
    return "application/octet-stream";
}

static void security_headers(struct MHD_Response *resp) {
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result send_text(struct MHD_Connection *c, int status, const char *ctype, const char *text) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(resp, "Content-Type", ctype);
    security_headers(resp);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Serves web/<path>.  Paths with "..", backslashes or NULs are refused before
 * touching the file system, and the resolved file must still lie under web/. */
static enum MHD_Result serve_static(server *s, struct MHD_Connection *c, const char *method, const char *url) {
    static const char nf[] = "{\"error\":\"not_found\",\"message\":\"no such path\"}";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_text(c, 405, "application/json", "{\"error\":\"method_not_allowed\"}");
    if (!s->web || strstr(url, "..") || strchr(url, '\\') || url[0] != '/')
        return send_text(c, 404, "application/json", nf);
    char path[4096], real[4096];
    snprintf(path, sizeof path, "%s%s%s", s->web, url, strcmp(url, "/") == 0 ? "index.html" : "");
    /* The separator matters: without it a symlink into a sibling such as
     * web2/ would pass a plain prefix test. */
    size_t wl = strlen(s->web);
    if (!realpath(path, real) || strncmp(real, s->web, wl) != 0 || real[wl] != '/')
        return send_text(c, 404, "application/json", nf);
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) return send_text(c, 404, "application/json", nf);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return send_text(c, 404, "application/json", nf);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    MHD_add_response_header(resp, "Content-Type", mime_of(real));
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    security_headers(resp);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- the client's address, through trusted proxies ---- */

/* Parses "ADDR" or "ADDR/BITS" (IPv4 or IPv6); 0 when it is neither. */
static int parse_net(const char *text, proxy_net *n) {
    char buf[64];
    kb_strlcpy(buf, text, sizeof buf);
    char *slash = strchr(buf, '/');
    if (slash) *slash = '\0';
    memset(n, 0, sizeof *n);
    if (inet_pton(AF_INET, buf, n->addr) == 1) n->family = AF_INET;
    else if (inet_pton(AF_INET6, buf, n->addr) == 1) n->family = AF_INET6;
    else return 0;
    n->bits = n->family == AF_INET ? 32 : 128;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || b < 0 || b > n->bits) return 0;
        n->bits = (int)b;
    }
    return 1;
}

static int parse_proxies(server *s, const char *list, kb_err *e) {
    char buf[512];
    kb_strlcpy(buf, list ? list : "", sizeof buf);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        if (s->n_proxies == MAX_PROXIES) return kb_errf(e, "trusted_proxies: more than %d entries", MAX_PROXIES);
        if (!parse_net(t, &s->proxies[s->n_proxies]))
            return kb_errf(e, "trusted_proxies: '%s' is not an IP address or CIDR block", t);
        s->n_proxies++;
    }
    return C_OK;
}

static int is_trusted(const server *s, const proxy_net *a) {
    for (int i = 0; i < s->n_proxies; i++) {
        const proxy_net *n = &s->proxies[i];
        if (n->family != a->family) continue;
        int whole = n->bits / 8, rest = n->bits % 8;
        if (memcmp(n->addr, a->addr, (size_t)whole) != 0) continue;
        if (rest && ((n->addr[whole] ^ a->addr[whole]) & (0xff << (8 - rest)) & 0xff)) continue;
        return 1;
    }
    return 0;
}

/* The address limits and throttles are keyed by.  X-Forwarded-For is
 * believed only when the peer is a trusted proxy, and then read from the
 * right: each trusted proxy appends the address it saw, so the rightmost
 * hop that is not one of ours is the client; anything left of it may be
 * made up by the client.  A hop that is not an address stops the walk. */
static void client_address(const server *s, struct MHD_Connection *c, const char *peer, char out[INET6_ADDRSTRLEN]) {
    kb_strlcpy(out, peer, INET6_ADDRSTRLEN);
    proxy_net a;
    if (!s->n_proxies || !parse_net(peer, &a) || !is_trusted(s, &a)) return;
    const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
    if (!xff) return;
    /* The proxies' hops are on the right: a header longer than the buffer
     * keeps its tail, and the hop cut in two at its start is never used. */
    char buf[1024];
    size_t len = strlen(xff);
    int cut = len >= sizeof buf;
    kb_strlcpy(buf, xff + (cut ? len - (sizeof buf - 1) : 0), sizeof buf);
    for (;;) {
        char *comma = strrchr(buf, ',');
        if (!comma && cut) return;
        char *hop = comma ? comma + 1 : buf;
        while (*hop == ' ' || *hop == '\t') hop++;
        size_t n = strlen(hop);
        while (n && (hop[n - 1] == ' ' || hop[n - 1] == '\t')) hop[--n] = '\0';
        if (strchr(hop, '/') || !parse_net(hop, &a)) return;
        inet_ntop(a.family, a.addr, out, INET6_ADDRSTRLEN);
        if (!is_trusted(s, &a) || !comma) return;
        *comma = '\0';
    }
}

/* The peer's address, or the client a trusted proxy names (client_address). */
static void client_ip(const server *s, struct MHD_Connection *c, char ip[INET6_ADDRSTRLEN]) {
    char peer[INET6_ADDRSTRLEN] = "";
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, peer, sizeof peer);
    else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, peer, sizeof peer);
    client_address(s, c, peer, ip);
}

/* Before the body of a request arrives: a route that streams its body is
 * admitted (authenticated and authorised on the headers) and gets a private
 * file; one refused keeps its reply and discards the body. */
static void admit_stream(server *s, struct MHD_Connection *c, const char *url, const char *method, conn_state *cs) {
    if (strcmp(method, "POST") != 0 || strncmp(url, "/api/", 5) != 0) return;
    kb_req *r = &cs->early;
    char ip[INET6_ADDRSTRLEN];
    client_ip(s, c, ip);
    r->conn = c;
    r->method = method;
    r->path = url;
    r->client_ip = ip;
    r->d = pool_take(&s->pool);
    const kb_route *rt = kb_dispatch_admit(r);
    pool_give(&s->pool, r->d);
    r->d = NULL;
    r->client_ip = NULL;
    if (!rt) {
        cs->refused = r->status != 0;
        return;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(cs->path, sizeof cs->path, "%s/kenbank-body-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cs->fd = mkstemp(cs->path); /* mode 0600 */
    if (cs->fd < 0) {
        fprintf(stderr, "kenbank serve: %s: cannot create %s: %s\n", url, cs->path, strerror(errno));
        cs->path[0] = '\0';
        cs->write_failed = 1;
    }
}

static void stream_chunk(conn_state *cs, size_t limit, const char *data, size_t n) {
    if (cs->too_big || cs->write_failed) return;
    if (cs->streamed + n > limit) {
        cs->too_big = 1;
        return;
    }
    while (n > 0) {
        ssize_t w = write(cs->fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            fprintf(stderr, "kenbank serve: writing %s: %s\n", cs->path, strerror(errno));
            cs->write_failed = 1;
            return;
        }
        data += w;
        n -= (size_t)w;
        cs->streamed += (size_t)w;
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    server *s = cls;
    conn_state *cs = *con_cls;
    if (!cs) {
        cs = kb_calloc(1, sizeof *cs);
        kb_buf_init(&cs->body);
        cs->fd = -1;
        *con_cls = cs;
        atomic_fetch_add(&s->in_flight, 1);
        cs->counted = 1;
        admit_stream(s, c, url, method, cs);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        size_t limit = cs->fd >= 0 ? s->o->max_upload : s->o->max_body;
        if (!cs->refused && cl && strtoull(cl, NULL, 10) > limit) cs->too_big = 1;
        return MHD_YES;
    }
    size_t limit = cs->fd >= 0 || cs->write_failed ? s->o->max_upload : s->o->max_body;
    if (*upload_size) {
        if (cs->refused) {
            /* discarded: the reply is already decided */
        } else if (cs->fd >= 0) {
            stream_chunk(cs, limit, upload, *upload_size);
        } else if (!cs->too_big && cs->body.len + *upload_size <= limit) {
            kb_buf_append(&cs->body, upload, *upload_size);
        } else {
            cs->too_big = 1;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (cs->refused) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(cs->early.out_len, cs->early.out, MHD_RESPMEM_MUST_FREE);
        cs->early.out = NULL;
        if (cs->early.ctype) MHD_add_response_header(resp, "Content-Type", cs->early.ctype);
        MHD_add_response_header(resp, "Cache-Control", "no-store");
        MHD_add_response_header(resp, "Connection", "close");
        security_headers(resp);
        enum MHD_Result ret = MHD_queue_response(c, (unsigned)cs->early.status, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    if (cs->too_big) {
        char msg[160];
        snprintf(msg, sizeof msg, "{\"error\":\"too_large\",\"message\":\"request body exceeds %zu bytes\"}", limit);
        return send_text(c, 413, "application/json", msg);
    }
    if (cs->write_failed)
        return send_text(c, 507, "application/json",
                         "{\"error\":\"storage\",\"message\":\"the server could not store the upload\"}");
    if (strncmp(url, "/api/", 5) != 0 && strcmp(url, "/fhir") != 0 && strncmp(url, "/fhir/", 6) != 0)
        return serve_static(s, c, method, url);

    kb_req r;
    memset(&r, 0, sizeof r);
    r.conn = c;
    r.method = method;
    r.path = url;
    r.body = cs->body.s;
    r.body_len = cs->body.len;
    if (cs->fd >= 0) {
        close(cs->fd);
        cs->fd = -1;
        r.body = NULL;
        r.body_file = cs->path;
        r.body_len = cs->streamed;
    }
    char ip[INET6_ADDRSTRLEN];
    client_ip(s, c, ip);
    r.client_ip = ip;
    r.d = pool_take(&s->pool);
    kb_dispatch(&r);
    pool_give(&s->pool, r.d);
    if (r.status == 404 && !r.out) kb_reply_error(&r, 404, "not_found", "no endpoint %s %s", method, url);
    struct MHD_Response *resp;
    if (r.out)
        resp = MHD_create_response_from_buffer(r.out_len, r.out, MHD_RESPMEM_MUST_FREE);
    else
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (r.ctype) MHD_add_response_header(resp, "Content-Type", r.ctype);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (r.set_cookie[0]) MHD_add_response_header(resp, "Set-Cookie", r.set_cookie);
    if (atomic_load(&s->stopping)) MHD_add_response_header(resp, "Connection", "close");
    security_headers(resp);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    server *s = cls;
    conn_state *cs = *con_cls;
    if (!cs) return;
    if (cs->counted) atomic_fetch_sub(&s->in_flight, 1);
    kb_buf_free(&cs->body);
    if (cs->fd >= 0) close(cs->fd);
    if (cs->path[0]) unlink(cs->path); /* gone already when the handler kept it */
    free(cs->early.out);
    free(cs);
    *con_cls = NULL;
}

static void pool_close(pool *p) {
    for (int i = 0; i < p->n_free; i++) kb_data_close(p->free[i]);
    free(p->free);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
}

/* After the request threads are gone: drain and free the audit batcher. */
static void audit_stop(kb_audit_batcher *b, kb_data *d) {
    kb_audit_batcher_set_global(NULL);
    int64_t entries, batches, largest;
    kb_audit_batcher_stats(b, &entries, &batches, &largest);
    if (entries)
        fprintf(stderr, "kenbank serve: audit: %lld entries in %lld transactions (largest %lld)\n",
                (long long)entries, (long long)batches, (long long)largest);
    kb_audit_batcher_stop(b);
    kb_data_close(d);
}

int kb_server_run(const kb_server_opts *o, kb_err *e) {
    server s;
    memset(&s, 0, sizeof s);
    s.o = o;
    /* Containment in serve_static compares resolved paths, so the root
     * must be resolved too ($KENBANK_WEB may name it through a symlink). */
    char web_real[4096];
    s.web = kb_web_dir();
    if (s.web) s.web = realpath(s.web, web_real) ? web_real : NULL;
    if (o->login_rate > 0) kb_rate_limit = o->login_rate;
    if (kb_items_load(e)) return C_ERR;
    pthread_mutex_init(&s.pool.lock, NULL);
    pthread_cond_init(&s.pool.cond, NULL);
    s.pool.n = o->threads;
    s.pool.free = kb_calloc((size_t)o->threads, sizeof(kb_data *));
    /* The first open migrates the stores; the rest find them current. */
    for (int i = 0; i < o->threads; i++) {
        kb_data *d;
        if (kb_data_open(o->data_dir, &d, e)) {
            pool_close(&s.pool);
            return C_ERR;
        }
        s.pool.free[s.pool.n_free++] = d;
    }
    if (parse_proxies(&s, o->trusted_proxies ? o->trusted_proxies : s.pool.free[0]->trusted_proxies, e)) {
        pool_close(&s.pool);
        return C_ERR;
    }
    /* Registered local items, for cohort queries and displays; an import
     * through the API loads any registered since (kb_importer_open). */
    if (kb_local_items_load(s.pool.free[0]->research, e)) {
        pool_close(&s.pool);
        return C_ERR;
    }
    /* Audit group commit: request threads queue their entries and one of
     * them at a time appends the whole queue through these store
     * connections (audit/batch.h). */
    kb_data *audit_d = NULL;
    kb_audit_batcher *audit_b = NULL;
    /* On a standby's data directory the audit chain is appended on the
     * primary (a standby cannot write), and the server serves reads only. */
    int on_standby = s.pool.n_free && kb_data_is_standby(s.pool.free[0]);
    kb_router_set_standby(on_standby);
    if (kb_data_open_primary(o->data_dir, &audit_d, e) || kb_audit_batcher_start(audit_d, 0, &audit_b, e)) {
        if (audit_d) kb_data_close(audit_d);
        pool_close(&s.pool);
        return C_ERR;
    }
    kb_audit_batcher_set_global(audit_b);
    /* Bearer lookups are cached for two seconds (auth/token_cache.h): the
     * hot path of a machine client then reads no identity row at all. */
    kb_token_cache_enable(2000);
    kb_report_pdf_prepare();
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)o->port);
    if (inet_pton(AF_INET, o->host, &addr.sin_addr) != 1) {
        audit_stop(audit_b, audit_d);
        pool_close(&s.pool);
        return kb_errf(e, "--listen: '%s' is not an IPv4 address", o->host);
    }
    /* Worker threads inherit this mask, so SIGTERM/SIGINT reach only the
     * sigwait below and never interrupt a request half-way. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, &s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout, MHD_OPTION_CONNECTION_LIMIT, 4096u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s, MHD_OPTION_END);
    if (!daemon) {
        audit_stop(audit_b, audit_d);
        pool_close(&s.pool);
        return kb_errf(e, "cannot listen on %s:%d: %s", o->host, o->port, strerror(errno));
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on http://%s:%u (%d threads, web %s%s%s)\n", o->host,
           di ? (unsigned)di->port : (unsigned)o->port, o->threads, s.web ? s.web : "(none)",
           on_standby ? "; reads from a standby, changes refused" : "",
           s.n_proxies ? "; X-Forwarded-For from trusted proxies" : "");
    fflush(stdout);
    int sig = 0;
    sigwait(&sigs, &sig);
    /* Graceful: stop accepting, let requests in flight finish (up to 10 s),
     * then close idle keep-alive connections and the stores. */
    atomic_store(&s.stopping, 1);
    MHD_socket ls = MHD_quiesce_daemon(daemon);
    for (int i = 0; i < 1000 && atomic_load(&s.in_flight) > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(daemon);
    if (ls != MHD_INVALID_SOCKET) close(ls);
    audit_stop(audit_b, audit_d);
    pool_close(&s.pool);
    /* The request threads have exited with their pango font maps; what
     * is left are the process-wide font caches. */
    kb_report_pdf_release();
    fprintf(stderr, "kenbank serve: %s received, stopped cleanly\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    return C_OK;
}
