"""The reference S1SP: DUIS Service Requests in, Secure device commands out, SMETS1 Responses back."""
