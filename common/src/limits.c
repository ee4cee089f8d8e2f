#include "flinkop/limits.h"

#define X(name, def, doc) .name = (def),
static const struct fo_limits defaults = {FO_LIMITS_TABLE(X)};
#undef X

const struct fo_limits *fo_limits_default(void) { return &defaults; }
