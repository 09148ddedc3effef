"""What people read: one report as text/JSON/CSV, the comparison workbook, audit reports and letters."""
