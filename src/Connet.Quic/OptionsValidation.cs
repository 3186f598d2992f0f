using System.Runtime.CompilerServices;

namespace Connet.Quic;

/// <summary>Throws ArgumentExceptions whose parameter is the options argument and whose message names the property.</summary>
internal static class OptionsValidation
{
    public static void InRange(long value, long min, long max, string argumentName, [CallerArgumentExpression(nameof(value))] string property = "")
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(argumentName, value, $"'{property}' must be between {min} and {max}.");
        }
    }

    public static void ErrorCode(long value, string argumentName, [CallerArgumentExpression(nameof(value))] string property = "")
    {
        if (value < 0 || value > QuicDefaults.MaxErrorCodeValue)
        {
            throw new ArgumentOutOfRangeException(
                argumentName, value, $"'{property}' must be set to an error code between 0 and 2^62-1 (it is -1 until set).");
        }
    }

    public static void NotNull(object? value, string argumentName, [CallerArgumentExpression(nameof(value))] string property = "")
    {
        if (value is null)
        {
            throw new ArgumentNullException(argumentName, $"'{property}' must be set.");
        }
    }

    public static void Timeout(TimeSpan value, string argumentName, [CallerArgumentExpression(nameof(value))] string property = "")
    {
        if (value < TimeSpan.Zero && value != System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(argumentName, value, $"'{property}' must not be negative (Zero means the default).");
        }
    }
}
