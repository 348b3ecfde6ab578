#ifndef ARBITER_CSODIUM_SHIM_H
#define ARBITER_CSODIUM_SHIM_H
#include <sodium.h>
#endif
