from . import clouds_client
