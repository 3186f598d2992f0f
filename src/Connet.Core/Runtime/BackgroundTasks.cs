using System.Collections.Concurrent;

namespace Connet.Core.Runtime;

/// <summary>
/// Owns fire-and-forget work (one task per connection or stream) so that disposal can cancel it and wait for all of
/// it: no task outlives its owner. Each task must observe <see cref="Stopping"/> and handle its own exceptions.
/// </summary>
public sealed class BackgroundTasks : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _running = new();
    private int _disposed;

    public CancellationToken Stopping => _stopping.Token;

    public int Count => _running.Count;

    /// <summary>Starts <paramref name="work"/> with the stopping token; false (not started) once disposing, so the caller releases what the work would have owned.</summary>
    public bool Run(Func<CancellationToken, Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (Volatile.Read(ref _disposed) != 0)
        {
            return false;
        }

        Task task = Task.Run(() => work(_stopping.Token));
        _running.TryAdd(task, 0);
        task.ContinueWith(
            static (completed, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(completed, out _),
            _running,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);

        // Work started concurrently with disposal may still be added; loop until nothing is left.
        for (int round = 0; round < 100 && !_running.IsEmpty; round++)
        {
            try
            {
                await Task.WhenAll(_running.Keys).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Each task reports its own failures; disposal only waits for them to end.
            }
        }

        _stopping.Dispose();
    }
}
