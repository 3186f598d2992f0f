using System.Diagnostics;
using System.Text;

namespace Connet.Host.Tests;

/// <summary>The built <c>connet</c> run as a child process (<c>dotnet exec connet.dll</c>); killed with its tree on dispose.</summary>
internal sealed class ConnetProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<TaskCompletionSource<string>> _lineWaiters = [];

    public ConnetProcess(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "connet.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Only what the test says: no token or state directory leaks in from the machine running the tests.
        foreach (var name in new[] { "CONNET_TOKEN", "CONNET_STATE_DIR", "STATE_DIRECTORY", "CONNET_CACHE_DIR", "CACHE_DIRECTORY" })
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, line) => Append(_stdout, line.Data, notify: true);
        _process.ErrorDataReceived += (_, line) => Append(_stderr, line.Data, notify: false);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The first stdout line containing <paramref name="text"/> (already printed or still to come).</summary>
    public async Task<string> WaitForLineAsync(string text, CancellationToken cancellationToken)
    {
        while (true)
        {
            var waiter = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_stdout)
            {
                // Checked under the lock that appends, so no line slips between the check and the wait.
                string? existing = _stdout.ToString().Split('\n').FirstOrDefault(line => line.Contains(text, StringComparison.Ordinal));
                if (existing is not null)
                {
                    return existing;
                }

                _lineWaiters.Add(waiter);
            }

            await waiter.Task.WaitAsync(cancellationToken);
        }
    }

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
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

    private void Append(StringBuilder buffer, string? line, bool notify)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource<string>> waiters;
        lock (buffer)
        {
            buffer.Append(line).Append('\n');
            if (!notify)
            {
                return;
            }

            waiters = [.. _lineWaiters];
            _lineWaiters.Clear();
        }

        foreach (var waiter in waiters)
        {
            waiter.TrySetResult(line);
        }
    }
}
