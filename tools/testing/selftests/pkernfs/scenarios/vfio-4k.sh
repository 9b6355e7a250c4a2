#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfio-4k: the vfio scenario with 4 KiB IOMMU pages only.  vfio-4k.boot
# sets vfio_iommu_type1.disable_hugepages=1, so every mapping of every
# stage, those the live update keeps included, is made of 4 KiB pages:
# the new kernel checks each re-declared one page by page, and clears
# those nobody re-declared a page at a time.  The vfio scenario itself
# maps guest RAM with 2 MiB IOMMU pages.  pkernfs_vfio reads the module
# parameter and expects what each page size allows.

. /scenarios/vfio.sh
