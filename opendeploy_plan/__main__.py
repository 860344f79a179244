"""`python -m opendeploy_plan` runs the odplan command line."""

from opendeploy_plan.cli import main

if __name__ == "__main__":
    main()
