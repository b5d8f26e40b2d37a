"""XML namespaces used by DUIS 5.4 and the Message Mapping Catalogue."""

SR = "http://www.dccinterface.co.uk/ServiceUserGateway"
RA = "http://www.dccinterface.co.uk/ResponseAndAlert"
DS = "http://www.w3.org/2000/09/xmldsig#"

NSMAP = {"sr": SR, "ra": RA, "ds": DS}
SCHEMA_VERSION = "5.4"


def sr(local: str) -> str:
    """Clark notation of a DUIS (``sr:``) element name."""
    return f"{{{SR}}}{local}"


def ra(local: str) -> str:
    """Clark notation of an MMC response (``ra:``) element name."""
    return f"{{{RA}}}{local}"
