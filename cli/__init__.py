"""The operator CLI: ``python -m cli ...`` calls the IAM-authorized admin API with SigV4.

Never shipped to Lambda. Depends only on botocore/boto3 and requests (already runtime deps).
"""
