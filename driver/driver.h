/*
 * driver.h - what the driver's files share.
 */
#ifndef DLC_DRIVER_H
#define DLC_DRIVER_H

#include "ir.h"

/* gradcheck.c: compares the module's gradient (the interpreter) with
 * central finite differences at seeded random parameters, on the first
 * rows of the CSV file `data` or on random rows when it is NULL; prints
 * the worst relative error per parameter and returns 1 when one exceeds
 * the tolerance, 0 otherwise. */
int dlc_gradcheck(const IrModule *m, const char *data);

#endif
