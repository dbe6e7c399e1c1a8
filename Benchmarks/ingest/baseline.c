// Same-run baseline for the ingest benchmark: the "hand-written C parser" of shared/MEASURED.md,
// parsing the very bytes ingest parses. No UTF-8 check, no escapes, no error reporting, no
// output frame: a floor for what ingest's JSON path costs.
#include "baseline.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

enum { FIELDS = 65, BATCH = 256 };

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static const double powers[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static const char *number(const char *p, double *out) {
    int neg = *p == '-';
    p += neg;
    uint64_t m = 0;
    int frac = 0;
    while ((unsigned)(*p - '0') < 10) m = m * 10 + (uint64_t)(*p++ - '0');
    if (*p == '.') {
        const char *s = ++p;
        while ((unsigned)(*p - '0') < 10) m = m * 10 + (uint64_t)(*p++ - '0');
        frac = (int)(p - s);
    }
    double v = (double)m / powers[frac];
    *out = neg ? -v : v;
    return p;
}

static double columns[FIELDS * BATCH];
double c_baseline_sink;

double c_baseline_parse(const char *text, size_t length) {
    static char names[FIELDS][8];
    static size_t lengths[FIELDS];
    names[0][0] = 'i', names[0][1] = 'd', lengths[0] = 2;
    for (int f = 1; f < FIELDS; f++) {
        int n = f - 1, k = 0;
        names[f][k++] = 'f';
        if (n >= 10) names[f][k++] = (char)('0' + n / 10);
        names[f][k++] = (char)('0' + n % 10);
        lengths[f] = (size_t)k;
    }
    double start = cpu_seconds();
    const char *p = text, *end = text + length;
    int row = 0;
    while (p < end) {
        p++;  // '{'
        int guess = 0;
        for (;;) {
            const char *key = ++p;
            while (*p != '"') p++;
            size_t klen = (size_t)(p - key);
            int field = -1;
            if (guess < FIELDS && lengths[guess] == klen && memcmp(names[guess], key, klen) == 0) {
                field = guess;
            } else {
                for (int f = 0; f < FIELDS; f++)
                    if (lengths[f] == klen && memcmp(names[f], key, klen) == 0) field = f;
            }
            p += 2;  // '"' ':'
            double v;
            p = number(p, &v);
            if (field >= 0) columns[field * BATCH + row] = v;
            guess = field + 1;
            if (*p++ == '}') break;
        }
        p++;  // '\n'
        if (++row == BATCH) row = 0;
    }
    double seconds = cpu_seconds() - start;
    c_baseline_sink += columns[0];
    return seconds;
}
