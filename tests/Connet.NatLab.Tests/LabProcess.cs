using System.Diagnostics;
using System.Text;

namespace Connet.NatLab.Tests;

/// <summary>
/// The built <c>connet</c> (<c>connet.dll</c> next to the tests) run inside a lab namespace with
/// <c>ip netns exec NS dotnet exec connet.dll ...</c> (ip execs into dotnet, so the process is connet itself); killed
/// with its tree on dispose. Keeps stderr for failure messages.
/// </summary>
internal sealed class LabProcess : IDisposable
{
    private const int MaxKeptOutputChars = 64 * 1024;

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public LabProcess(string namespaceName, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("ip")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])["netns", "exec", namespaceName, "dotnet", "exec", Path.Combine(AppContext.BaseDirectory, "connet.dll"), .. args])
        {
            start.ArgumentList.Add(arg);
        }

        // Only what the lab says: no token or state directory leaks in from the machine running the tests.
        foreach (string name in new[] { "CONNET_TOKEN", "CONNET_STATE_DIR", "STATE_DIRECTORY", "CACHE_DIRECTORY" })
        {
            start.Environment.Remove(name);
        }

        start.Environment["CONNET_CACHE_DIR"] = Path.Combine(workingDirectory, "cache");
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, line) => Append(line.Data);
        _process.ErrorDataReceived += (_, line) => Append(line.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The last <see cref="MaxKeptOutputChars"/> characters of stdout and stderr.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Append(line).Append('\n');
            if (_output.Length > MaxKeptOutputChars)
            {
                _output.Remove(0, _output.Length - MaxKeptOutputChars);
            }
        }
    }
}
