# Region arguments for 'make bench' (scripts/bench.sh boots with -m 23G):
# q35 puts the RAM above 2G at 4G, so it ends at 25G.  The main region,
# 2560M at 4G, holds a 1G file, or 1000 files of one 2M block each.  The
# regions of figure 9, 256M at 6.5G and 16G at 7G, are reserved by every
# kernel of the run, so that all have the same memory map; bench.sh gives
# one of them to pkernfs= when it measures that size.  That leaves the
# guest 4.25G, enough for 1G of tmpfs and 1G of hugetlbfs pages.
# initcall_debug logs how long pkernfs_init takes.
memmap=2560M%0x100000000 memmap=256M%0x1a0000000 memmap=16G%0x1c0000000 pkernfs=2560M!0x100000000 initcall_debug
