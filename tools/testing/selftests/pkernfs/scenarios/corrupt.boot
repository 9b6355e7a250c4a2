# Region arguments for the corruption campaign: 96M is room for a file with
# a mapping table (33 data blocks), and small enough to save and restore.
memmap=96M%1G pkernfs=96M!1G
