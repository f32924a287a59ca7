# dom0-image/appliance.mk — `make appliance`, `make appliance-run`, `make appliance-test`
# (issue 5). Filled in with the appliance build.
