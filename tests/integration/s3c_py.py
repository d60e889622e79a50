"""Helpers shared by the boto3 scenarios of tests/integration (30N-*.sh):
they run `python3 -` with this directory on PYTHONPATH."""
from botocore.exceptions import ClientError


def ok(msg):
    print("ok:", msg, flush=True)


def err(fn, code, **kw):
    """fn(**kw) must fail with S3 error `code` (or that HTTP status)."""
    try:
        fn(**kw)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        st = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert got == code or str(st) == code, (fn.__name__, kw.get("Key"),
                                                got, st, code)
        return
    raise AssertionError("%s worked, expected %s" % (fn.__name__, code))
