"""Excel workbooks for the people who act on the results: townships, counties, the province."""
