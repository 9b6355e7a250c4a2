# Region arguments for the interrupt scenario: 512M, room for every case's
# files (several of 60-80M) side by side.
memmap=512M%1G pkernfs=512M!1G
