#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfio-noroot: no IOMMU unit keeps its root and context tables in pkernfs
# (pkernfs.keep_iommu_root=0 in vfio-noroot.boot), as for every unit but
# the first on a machine with several.  A device behind such a unit would
# keep mastering with translation off through the kexec, so a persistent
# domain must be refused, and the kernel must say why: 'pkernfs_vfio
# noroot' checks both.

. /scenarios/lib.sh

pk_require_fs
pk_check "mount" pk_mount || pk_done
edu=$(pk_edu_devices | sed -n 1p)
[ -n "$edu" ] || { pk_not_ok "an edu device"; pk_done; }
pk_check "bind edu $edu to vfio-pci" pk_bind_vfio "$edu" || pk_done
pk_run pkernfs_vfio noroot "$edu"
pk_dmesg_check
pk_done
