"""From a Document to a Report's content: locate the sections and tables, interpret rows and columns as
canonical cells, find agency and year, and read the narrative's numbers and sentences."""
