"""DCC's own signing tool, driven from the tests: the DCC Boxed ``xmldsig`` JAR and DCC Boxed's test key store.

Where it is found: ``$S1SR_INTEROP_DIR`` (default ``.interop/`` at the repository root), into which CI runs
``npm install --prefix .interop @smartdcc/duis-sign-wrap @smartdcc/dccboxed-keystore``; the JAR is
``node_modules/@smartdcc/duis-sign-wrap/dist/tool.jar`` and the key store
``node_modules/@smartdcc/dccboxed-keystore/keystore.json``. Java is the ``java`` on PATH (11 or newer).

The tool's command line takes one document per JVM, and a JVM start with the tool's schema load costs about
a second. So a small driver (below, run by Java's source launcher) feeds many documents through one JVM,
calling per document ``Sign.main_aux`` / ``Validate.main_aux``: the very functions behind the tool's command
line, with the same arguments and the same exit codes. When the tool ends the JVM itself (it calls
``System.exit`` on a document it cannot parse), that document gets the exit code and the rest go on in a new
JVM. :meth:`DccTool.command_line` runs the real command line, to show that the driver answers as it does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = "node_modules/@smartdcc"
JAR = f"{PACKAGES}/duis-sign-wrap/dist/tool.jar"
KEYSTORE = f"{PACKAGES}/dccboxed-keystore/keystore.json"
TOOL_PACKAGE = "uk.co.smartdcc.boxed.xmldsig"
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto")
SECONDS_PER_JVM = 60.0
SECONDS_PER_DOCUMENT = 1.0

#: The tool's exit codes (its ResultCode).
SUCCESS, GENERIC_ERROR, MISSING_KEY, VALIDATION_FAIL = 0, 2, 3, 10

_DRIVER = """
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import uk.co.smartdcc.boxed.xmldsig.ResultCode;
import uk.co.smartdcc.boxed.xmldsig.Sign;
import uk.co.smartdcc.boxed.xmldsig.Validate;

/** Runs the tool's own Sign/Validate entry points on each job of a folder: one JVM, many documents. */
public final class DccBatch {
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int first = Integer.parseInt(args[1]);
    List<String> jobs = Files.readAllLines(dir.resolve("jobs.tsv"));
    PrintStream out = System.out;
    PrintStream err = System.err;
    for (int n = first; n < jobs.size(); n++) {
      String[] fields = jobs.get(n).split("\\t");
      String[] toolArgs = Arrays.copyOfRange(fields, 1, fields.length);
      int code;
      try (PrintStream o = new PrintStream(new FileOutputStream(dir.resolve(n + ".out").toFile()), true);
           PrintStream e = new PrintStream(new FileOutputStream(dir.resolve(n + ".err").toFile()), true)) {
        System.setOut(o);
        System.setErr(e);
        try {
          ResultCode rc = fields[0].equals("Sign") ? Sign.main_aux(toolArgs) : Validate.main_aux(toolArgs);
          code = rc.value();
        } catch (Throwable t) {
          e.println("[driver] " + t);
          code = -1;
        } finally {
          System.setOut(out);
          System.setErr(err);
        }
      }
      out.println(n + "\\t" + code);
      out.flush();
    }
  }
}
"""


@dataclass(frozen=True)
class ToolResult:
    """What the tool answered for one document: its exit code, its stdout and its log (stderr)."""

    code: int
    out: bytes
    log: str

    @property
    def ok(self) -> bool:
        """Signed, or validated (exit code 0)."""
        return self.code == SUCCESS


@dataclass(frozen=True)
class Job:
    """One document for ``Sign`` or ``Validate``, with the tool's other arguments (file paths, flags)."""

    mode: str
    document: bytes
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class DccTool:
    """DCC's signing tool (JAR), the Java that runs it and DCC Boxed's key store."""

    java: str
    jar: Path
    keystore: Path

    def validate(self, documents: Sequence[bytes], cert_pem: bytes | None) -> list[ToolResult]:
        """``Validate`` each document against ``cert_pem``, or, when None, the tool's built-in key store."""
        with tempfile.TemporaryDirectory(prefix="s1sr-dcc-") as folder:
            args: tuple[str, ...] = ()
            if cert_pem is not None:
                (Path(folder) / "trusted.pem").write_bytes(cert_pem)
                args = (str(Path(folder) / "trusted.pem"),)
            return self.run([Job("Validate", document, args) for document in documents])

    def sign(self, documents: Sequence[bytes], *, preserve_counter: bool) -> list[ToolResult]:
        """``Sign`` each document with the key the tool holds for its originator (DCC Boxed's test keys)."""
        flag = ("--preserveCounter",) if preserve_counter else ()
        return self.run([Job("Sign", document, flag) for document in documents])

    def run(self, jobs: Sequence[Job]) -> list[ToolResult]:
        """Run ``jobs`` through as few JVMs as the tool allows; bounded in time."""
        with tempfile.TemporaryDirectory(prefix="s1sr-dcc-") as name:
            folder = Path(name)
            (folder / "DccBatch.java").write_text(_DRIVER)
            lines = []
            for n, job in enumerate(jobs):
                (folder / f"{n}.xml").write_bytes(job.document)
                lines.append("\t".join((job.mode, str(folder / f"{n}.xml"), *job.args)))
            (folder / "jobs.tsv").write_text("".join(line + "\n" for line in lines))
            codes: dict[int, int] = {}
            while len(codes) < len(jobs):
                first = len(codes)
                done = subprocess.run(
                    [self.java, *JVM_OPTIONS, "-cp", str(self.jar), str(folder / "DccBatch.java"), name, str(first)],
                    capture_output=True,
                    timeout=SECONDS_PER_JVM + SECONDS_PER_DOCUMENT * (len(jobs) - first),
                    check=False,
                )
                for line in done.stdout.decode().splitlines():
                    n, code = line.split("\t")
                    codes[int(n)] = int(code)
                stopped = len(codes)
                if stopped < len(jobs):
                    if not (folder / f"{stopped}.err").exists():
                        raise RuntimeError(f"the DCC tool driver failed: {done.stderr.decode()[-2000:]}")
                    codes[stopped] = done.returncode  # the tool ended the JVM on this document, as its CLI would
            return [_result(folder, n, codes[n]) for n in range(len(jobs))]

    def command_line(self, mode: str, document: bytes, *args: str) -> ToolResult:
        """The tool's own command line (``java -cp tool.jar …Sign|Validate FILE ARGS``): one JVM, one document."""
        with tempfile.TemporaryDirectory(prefix="s1sr-dcc-") as name:
            path = Path(name) / "document.xml"
            path.write_bytes(document)
            done = subprocess.run(
                [self.java, *JVM_OPTIONS, "-cp", str(self.jar), f"{TOOL_PACKAGE}.{mode}", str(path), *args],
                capture_output=True,
                timeout=SECONDS_PER_JVM,
                check=False,
            )
            return ToolResult(done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))

    def credentials(self, name: str) -> tuple[bytes, bytes]:
        """The PEM private key and certificate that DCC Boxed's key store holds under ``name``."""
        for usages in json.loads(self.keystore.read_text()).values():
            for entries in usages.values():
                for entry in entries.values():
                    if entry.get("name") == name:
                        return entry["privateKey"].encode(), entry["certificate"].encode()
        raise KeyError(f"{name} is not in {self.keystore}")


def _result(folder: Path, n: int, code: int) -> ToolResult:
    out = folder / f"{n}.out"
    return ToolResult(
        code,
        out.read_bytes() if out.exists() else b"",
        (folder / f"{n}.err").read_text("utf-8", "replace") if (folder / f"{n}.err").exists() else "",
    )


def find_tool() -> DccTool | str:
    """DCC's tool if it is installed here, else the reason it cannot be used (one line, with the fix)."""
    root = Path(os.environ.get("S1SR_INTEROP_DIR", REPO / ".interop"))
    java = shutil.which("java")
    install = f"npm install --prefix {root} @smartdcc/duis-sign-wrap @smartdcc/dccboxed-keystore"
    if java is None:
        return "no java on PATH (DCC's signing tool is a JAR): install a Java runtime 11+ (default-jre-headless)"
    if not (root / JAR).is_file() or not (root / KEYSTORE).is_file():
        return f"DCC's signing tool or key store is not in {root}: {install}"
    return DccTool(java, root / JAR, root / KEYSTORE)
