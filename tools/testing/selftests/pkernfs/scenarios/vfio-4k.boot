# The usual region; VFIO maps with 4 KiB IOMMU pages only.
memmap=256M%1G pkernfs=256M!1G vfio_iommu_type1.disable_hugepages=1
