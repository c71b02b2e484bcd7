from storyreel.cli import app

app(prog_name="storyreel")
