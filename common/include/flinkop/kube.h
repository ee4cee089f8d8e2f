/* kube.h - a Kubernetes API client on the common HTTP layer (http.h): configuration (kubeconfig
 * or in-cluster), typed requests for the resources the controller uses, paginated lists, and
 * watches.
 *
 * Errors: functions return 0 or a negative errno, with the API server's Status in
 * `fo_kube_error` (last_error of the client):
 *   -ENOENT 404, -EEXIST 409 AlreadyExists, -ESTALE 409 Conflict, FO_KUBE_GONE (-ENODATA) 410,
 *   -EINVAL 422 (causes in the message), -EAGAIN 429 (retry_after), -EPERM 403, -EACCES 401,
 *   -EIO 5xx or an unreadable answer, -ECONNREFUSED / -ETIMEDOUT / -EHOSTUNREACH for transport.
 *
 * Threading: a struct fo_kube holds one curl handle and must be used by one thread at a time;
 * make one client per thread (fo_kube_new is cheap: the configuration is shared read-only).
 * Ownership: json_object results (ret_*) are owned by the caller; borrowed inputs are never
 * modified. */
#ifndef FLINKOP_KUBE_H
#define FLINKOP_KUBE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "flinkop/buf.h"
#include "flinkop/http.h"
#include "flinkop/json.h"

#define FO_KUBE_GONE (-ENODATA)

struct fo_kube_config {
  char *server;     /* https://host:port, no trailing slash */
  char *ca_file;    /* or */
  char *ca_pem;     /* decoded certificate-authority-data */
  bool insecure;    /* insecure-skip-tls-verify */
  char *token;      /* static token, or */
  char *token_file; /* re-read whenever it changes (service-account tokens rotate) */
  char *client_cert_file, *client_key_file;
  char *client_cert_pem, *client_key_pem;
  char *namespace_; /* context namespace, or the pod's namespace in-cluster */
};

/* Loads `path` (a kubeconfig; NULL = $KUBECONFIG, else in-cluster). Returns 0, or -EINVAL/-ENOENT
 * with *ret_why (malloc'd) explaining. */
int fo_kube_config_load(const char *path, struct fo_kube_config *cfg, char **ret_why);
/* In-cluster configuration from `sa_dir` (NULL = /var/run/secrets/kubernetes.io/serviceaccount)
 * and KUBERNETES_SERVICE_HOST/PORT (IPv6 hosts bracketed). */
int fo_kube_config_in_cluster(const char *sa_dir, struct fo_kube_config *cfg, char **ret_why);
void fo_kube_config_free(struct fo_kube_config *cfg);

struct fo_kube_resource {
  const char *group; /* "" for the core group */
  const char *version;
  const char *plural;
  bool namespaced;
};
extern const struct fo_kube_resource fo_res_flinkdeployments, fo_res_flinksessionjobs,
    fo_res_flinkstatesnapshots, fo_res_deployments, fo_res_services, fo_res_configmaps,
    fo_res_events, fo_res_leases, fo_res_pods, fo_res_secrets, fo_res_ingresses,
    fo_res_validating_webhooks, fo_res_mutating_webhooks;

struct fo_kube_error {
  long http_code; /* 0: no answer (transport) or the request was not sent */
  char reason[64];
  char message[1024];
  long retry_after; /* seconds, for 429 */
  char method[8];   /* the request: "POST" */
  char path[256];   /* "/apis/apps/v1/namespaces/jobs/deployments" (no query) */
};

struct fo_kube;

/* Statistics hook: called after every request with verb and HTTP code (0 = transport error). */
typedef void (*fo_kube_observer_fn)(const char *verb, long code);

/* `cfg` is borrowed and must outlive the client. NULL on ENOMEM. */
struct fo_kube *fo_kube_new(const struct fo_kube_config *cfg);
struct fo_kube *fo_kube_free(struct fo_kube *k);
void fo_kube_set_observer(fo_kube_observer_fn fn);
const struct fo_kube_error *fo_kube_last_error(const struct fo_kube *k);
/* Request timeout in seconds (default 30). */
void fo_kube_set_timeout(struct fo_kube *k, long seconds);
/* Replaces the network with `fn` (unit tests run a fake API server through it); see http.h. */
void fo_kube_set_transport(struct fo_kube *k, fo_http_transport_fn fn, void *ud);
/* Called before every write (any method but GET) with the method and the path; a negative
 * return refuses it: the request is not sent and fails with that value. The one place a process
 * decides whether it may write (the controller: only while it leads). */
typedef int (*fo_kube_write_hook_fn)(void *ud, const char *method, const char *path);
void fo_kube_set_write_hook(struct fo_kube *k, fo_kube_write_hook_fn fn, void *ud);

/* Builds /api(s)/.../namespaces/<ns>/<plural>[/<name>[/<sub>]][?query]. */
int fo_kube_path(struct fo_buf *out, const struct fo_kube_resource *r, const char *ns,
                 const char *name, const char *sub, const char *query);

/* A raw request. `body` may be NULL. *ret (may be NULL) receives the parsed answer on success. */
int fo_kube_request(struct fo_kube *k, const char *method, const char *path,
                    const char *content_type, const char *body, json_object **ret);

int fo_kube_get(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                const char *name, json_object **ret);
int fo_kube_create(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                   json_object *obj, json_object **ret);
/* PUT; `sub` = "status" for the status subresource (NULL otherwise). obj's resourceVersion is
 * the optimistic-concurrency precondition (-ESTALE when stale). */
int fo_kube_update(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                   const char *name, const char *sub, json_object *obj, json_object **ret);
enum fo_patch_type { FO_PATCH_MERGE, FO_PATCH_JSON };
int fo_kube_patch(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                  const char *name, const char *sub, enum fo_patch_type type, json_object *patch,
                  json_object **ret);
/* propagation: "Foreground", "Background", "Orphan" or NULL. */
int fo_kube_delete(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                   const char *name, const char *propagation);
/* Lists every page (limit/continue). *ret_items: a new array of objects; *ret_rv: the list's
 * resourceVersion (malloc'd). `ns` NULL = all namespaces. */
int fo_kube_list(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                 const char *label_selector, long page_size, json_object **ret_items,
                 char **ret_rv);

/* One watch request from `resource_version`, until the server ends it, `stop` becomes true, an
 * error, or the callback returns < 0. Bookmarks and events advance *last_rv (malloc'd, replaced).
 * Returns 0 when the server closed the stream normally (re-watch from *last_rv), FO_KUBE_GONE
 * when the version is too old (re-list), or another negative errno. `max_line` bounds one event.
 */
typedef int (*fo_kube_watch_fn)(void *ud, const char *type, json_object *object);
int fo_kube_watch(struct fo_kube *k, const struct fo_kube_resource *r, const char *ns,
                  const char *label_selector, char **last_rv, long timeout_seconds, size_t max_line,
                  fo_kube_watch_fn fn, void *ud, atomic_bool *stop);

#endif
