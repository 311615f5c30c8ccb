"""The operator CLI: ``ads-connect ...`` (the ``amazon-ads-connect`` wheel's console script; from
a checkout ``python -m cli ...``) calls the IAM-authorized admin API with SigV4.

Never shipped to Lambda. Depends only on botocore/boto3 and requests (already runtime deps).
"""

# The product's release version, in one place: both wheels of `make dist` take theirs from
# here (wheels/*/pyproject.toml), and `ads-connect --version` prints it.
__version__ = "0.1.0"
