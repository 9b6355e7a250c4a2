# Region arguments for 'make bench' (scripts/bench.sh boots with -m 6G): q35
# puts the RAM above 2G at 4G, so 2560M at 4G leaves the guest 3.5G, enough
# for 1G of tmpfs and 1G of hugetlbfs pages.  The region holds a 1G file, or
# 1000 files of one 2M block each.
memmap=2560M%0x100000000 pkernfs=2560M!0x100000000
