# The usual region, and no IOMMU unit keeping its tables in pkernfs.
memmap=256M%1G pkernfs=256M!1G pkernfs.keep_iommu_root=0
