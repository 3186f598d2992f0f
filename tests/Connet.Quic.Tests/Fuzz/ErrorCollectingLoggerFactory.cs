using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Connet.Quic.Tests.Fuzz;

/// <summary>Collects Error-level log entries: the stack logs there only when a datagram broke something.</summary>
internal sealed class ErrorCollectingLoggerFactory : ILoggerFactory, ILogger
{
    public ConcurrentQueue<string> Errors { get; } = new();

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            Errors.Enqueue($"{eventId.Name}: {formatter(state, exception)} {exception}");
        }
    }

    public void Dispose()
    {
    }
}
