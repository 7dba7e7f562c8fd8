"""Results out: per-customer tables written as CSV, JSON Lines, Parquet or a terminal table, streamed in slices.

``customers`` builds the per-customer table (stage, health, risk, value); ``writers`` writes any sequence of
DataFrame slices to a stream without holding more than one slice of output.
"""

from lifecycle.export.customers import CHUNK_ROWS, CustomerTable, customer_table
from lifecycle.export.writers import FORMATS, write_chunks

__all__ = ["CHUNK_ROWS", "FORMATS", "CustomerTable", "customer_table", "write_chunks"]
