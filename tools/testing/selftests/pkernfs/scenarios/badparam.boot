# Region arguments for badparam stage 1: a 3M region is not 2M aligned.
memmap=256M%1G pkernfs=3M!1G
