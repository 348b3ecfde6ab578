#ifndef ARBITER_CLIBURING_SHIM_H
#define ARBITER_CLIBURING_SHIM_H
#include <liburing.h>
#endif
