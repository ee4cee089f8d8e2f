/* libFuzzer target: the watch-stream parser, fed the input in two chunks cut at a position taken
 * from the input itself. */
#include <stddef.h>
#include <stdint.h>

#include "flinkop/watchparse.h"

static int on_event(void *ud, const char *type, json_object *obj) {
  (void)type;
  (void)fo_json_get_string(fo_json_get_object(obj, "metadata"), "resourceVersion");
  ++*(int *)ud;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t cut = data[0] % size;
  int n = 0;
  struct fo_watch_parser p;
  fo_watch_parser_init(&p, 1 << 16, on_event, &n);
  if (fo_watch_parser_feed(&p, (const char *)data + 1, cut > 0 ? cut - 1 : 0) == 0)
    fo_watch_parser_feed(&p, (const char *)data + (cut > 0 ? cut : 1), size - (cut > 0 ? cut : 1));
  fo_watch_parser_free(&p);
  return 0;
}
