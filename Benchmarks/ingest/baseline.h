// The C baseline the benchmark runs side by side with ingest (see baseline.c).
#include <stddef.h>

/// Parses `length` bytes of JSON lines (an int id and float fields, as the benchmark makes
/// them) into columns, as a hand-written C parser would; returns the thread CPU seconds it took.
double c_baseline_parse(const char *text, size_t length);
