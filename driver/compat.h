/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels vcanbus builds on lives here, named
 * by what the driver needs, never by version at the point of use.
 *
 * Supported: Linux 6.1 (Debian 12) up to 6.12 (the LTS Debian 12 also ships).
 */
#ifndef _VCANBUS_COMPAT_H
#define _VCANBUS_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "vcanbus needs Linux 6.1 or later"
#endif

#endif /* _VCANBUS_COMPAT_H */
