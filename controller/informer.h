/* informer.h - a cache of one resource kind kept in step with the API server: list, then watch
 * from the list's resourceVersion (with bookmarks); re-watch from the last seen resourceVersion
 * when the server ends the stream; re-list on 410 Gone; back off with jitter on errors. Each
 * change (and each key the re-list finds added, changed or gone) is handed to `on_change` in the
 * order the server sent it.
 *
 * Threading: one thread per informer runs the watch; the cache is read by workers through
 * informer_get(), which returns a new tree parsed from the cached text (the cache keeps each
 * object as compact JSON text, without metadata.managedFields and kubectl's last-applied
 * annotation: a fraction of a tree's memory;
 * json-c trees are never shared between threads). */
#ifndef FLINKOP_CONTROLLER_INFORMER_H
#define FLINKOP_CONTROLLER_INFORMER_H

#include <stdatomic.h>
#include <stdbool.h>

#include "flinkop/kube.h"

struct informer;

/* Called on the informer's thread with the object's key (namespace/name) and the object
 * (borrowed; the deleted object for DELETED). */
typedef void (*informer_change_fn)(void *ud, const char *key, json_object *obj, bool deleted);

struct informer *informer_new(const struct fo_kube_config *cfg, const struct fo_kube_resource *res,
                              const char *ns, const char *label_selector, informer_change_fn fn,
                              void *ud);
int informer_start(struct informer *inf);
void informer_stop(struct informer *inf);
void informer_free(struct informer *inf);
bool informer_synced(struct informer *inf);
/* A new tree of the cached object (caller puts), or NULL (none, or no memory). */
json_object *informer_get(struct informer *inf, const char *key);
/* Appends every key to `keys` (a json-c array of strings). */
void informer_keys(struct informer *inf, json_object *keys);
/* {key: resourceVersion} for the debug endpoint (caller puts). */
json_object *informer_snapshot(struct informer *inf);
unsigned long informer_restarts(struct informer *inf);

#endif
