/* podmerge.h - layered pod templates: a component's template (spec.jobManager.podTemplate,
 * spec.taskManager.podTemplate) merged over the shared one (spec.podTemplate), with the rules of
 * the reference Apache Flink Kubernetes Operator (release 1.15, FlinkUtils.mergePodTemplates), so
 * that a manifest gives the same pods under either operator.
 *
 * The rules, `base` being the shared template and `overlay` the component's:
 * - Objects merge member by member, recursively: the base's members in their order, then the
 *   overlay's new ones in theirs. Where both are arrays they merge as arrays (below). Where the
 *   base's is an object the overlay's object merges into it, and an overlay scalar or array there
 *   is ignored (the reference merges only an object's fields into an object). Anywhere else the
 *   overlay's value wins.
 * - A member whose value is null counts as not given: it replaces nothing and is not in the
 *   result (the reference reads templates as typed Kubernetes objects, where a null field is an
 *   absent one). Null elements of arrays are values and stay.
 * - Arrays merge by position: element i of both merged when both are objects, else the base's
 *   element kept (the reference's, even for strings: base args [a, b] with overlay args [c] stay
 *   [a, b]); the overlay's elements past the base's length appended.
 * - With `by_name` (kubernetes.operator.pod-template.merge-arrays-by-name), two arrays whose
 *   elements are all objects with a non-null `name` merge by name: the base's names in order, each
 *   merged with the overlay's element of that name, then the overlay's new names in order. Within
 *   one array a repeated name keeps its first place and its last element, as in the reference.
 *   Names compare as text (8081 and "8081" are one name). Arrays with an element without a name
 *   (strings, say) merge by position.
 * - An overlay element appended by position is merged with itself, as the reference does: with
 *   `by_name` that collapses repeated names in the named arrays inside it.
 *
 * Ownership: `base` and `overlay` are borrowed and never modified; *ret is new, owned by the
 * caller (json_object_put), and shares nothing with the inputs. Thread-safe: no shared state.
 */
#ifndef FLINKOP_PODMERGE_H
#define FLINKOP_PODMERGE_H

#include <stdbool.h>

#include "flinkop/json.h"

/* The Flink configuration key that turns merging by name on ("true", any case, as Flink reads a
 * boolean); false by default. */
#define FO_PODMERGE_BY_NAME_KEY "kubernetes.operator.pod-template.merge-arrays-by-name"

/* Merges `overlay` over `base` (each an object, or NULL / JSON null for no template). Returns 0
 * with *ret: the merged template, a copy of the one given when only one is, {} when neither is.
 * Returns -EINVAL when an input is not an object, -E2BIG when the result would nest objects and
 * arrays deeper than fo_limits_default()->depth (a template read by our parsers never does),
 * -ENOMEM; *ret is written only on success. */
int fo_podmerge(json_object *base, json_object *overlay, bool by_name, json_object **ret);

#endif
