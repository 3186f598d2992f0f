using System.Buffers;
using System.Buffers.Binary;
using Connet.Quic;
using Google.Protobuf;

namespace Connet.Core.Protocol;

/// <summary>
/// Writes and reads one connet message on a stream: a big-endian length prefix (4 or 8 bytes, by
/// <see cref="WireVersion"/>) followed by that many bytes of protobuf. There is no varint.
/// </summary>
public static class MessageFraming
{
    /// <summary>The largest message either side accepts (16 MiB), as in Go connet.</summary>
    public const int MaxMessageSize = 16 * 1024 * 1024;

    /// <summary>
    /// A tighter cap for what peers send before they are trusted or before a tunnel starts (authentication requests,
    /// peer.Request): all of it is well under a kilobyte, so a stranger cannot make a server buffer megabytes.
    /// </summary>
    public const int MaxHandshakeMessageSize = 128 * 1024;

    private const int LongestPrefixLength = sizeof(ulong);

    /// <summary>The length-prefix width, in bytes, of <paramref name="version"/>.</summary>
    public static int PrefixLength(WireVersion version) => version switch
    {
        WireVersion.Current => sizeof(uint),
        WireVersion.Legacy => sizeof(ulong),
        _ => throw new ArgumentOutOfRangeException(nameof(version), version, "Unknown connet wire version."),
    };

    /// <summary>
    /// Writes <paramref name="message"/> as one frame, in a single write so that a QUIC stream sends
    /// prefix and body together.
    /// </summary>
    /// <exception cref="ConnetProtocolException">The message is larger than <see cref="MaxMessageSize"/>, or the peer aborted with a connet error code.</exception>
    public static async ValueTask WriteAsync(Stream stream, IMessage message, WireVersion version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(message);
        var prefixLength = PrefixLength(version);
        var size = message.CalculateSize();
        if (size > MaxMessageSize)
        {
            throw new ConnetProtocolException(ConnetErrorCode.Unknown,
                $"{message.Descriptor.FullName} is {size} bytes, more than the {MaxMessageSize}-byte connet message limit");
        }

        var frameLength = prefixLength + size;
        var buffer = ArrayPool<byte>.Shared.Rent(frameLength);
        try
        {
            WritePrefix(buffer.AsSpan(0, prefixLength), size, version);
            message.WriteTo(buffer.AsSpan(prefixLength, size));
            await stream.WriteAsync(buffer.AsMemory(0, frameLength), cancellationToken).ConfigureAwait(false);
        }
        catch (QuicException quicException) when (ConnetError.FromApplicationError(quicException) is { } connetException)
        {
            throw connetException;
        }
        finally
        {
            // Messages carry tokens and keys; do not leave them in a shared pool.
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>
    /// Reads one frame and parses it as <typeparamref name="TMessage"/>. Returns null when the stream
    /// ends cleanly before the frame starts.
    /// </summary>
    /// <exception cref="ConnetProtocolException">
    /// The declared length exceeds <see cref="MaxMessageSize"/> (detected before anything is allocated for
    /// the body), the stream ends inside a frame, the body is not a valid <typeparamref name="TMessage"/>,
    /// or the peer aborted with a connet error code.
    /// </exception>
    public static ValueTask<TMessage?> ReadAsync<TMessage>(Stream stream, WireVersion version, CancellationToken cancellationToken = default)
        where TMessage : class, IMessage<TMessage>, new() =>
        ReadAsync<TMessage>(stream, version, MaxMessageSize, cancellationToken);

    /// <summary>As <see cref="ReadAsync{TMessage}(Stream, WireVersion, CancellationToken)"/>, with a frame size cap below <see cref="MaxMessageSize"/>.</summary>
    public static async ValueTask<TMessage?> ReadAsync<TMessage>(Stream stream, WireVersion version, int maxSize, CancellationToken cancellationToken)
        where TMessage : class, IMessage<TMessage>, new()
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxSize, MaxMessageSize);
        var prefixLength = PrefixLength(version);
        try
        {
            var size = await ReadPrefixAsync(stream, prefixLength, version, maxSize, typeof(TMessage).Name, cancellationToken).ConfigureAwait(false);
            if (size is not int bodyLength)
            {
                return null;
            }

            var message = new TMessage();
            if (bodyLength == 0)
            {
                // An empty frame is a valid message with every field at its default (e.g. the direct check's peer.Request).
                return message;
            }

            var body = ArrayPool<byte>.Shared.Rent(bodyLength);
            try
            {
                var read = await stream.ReadAtLeastAsync(body.AsMemory(0, bodyLength), bodyLength, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (read < bodyLength)
                {
                    throw new ConnetProtocolException(ConnetErrorCode.Unknown,
                        $"stream ended after {read} of the {bodyLength} body bytes of a {typeof(TMessage).Name} frame");
                }

                try
                {
                    message.MergeFrom(body.AsSpan(0, bodyLength));
                }
                catch (InvalidProtocolBufferException invalid)
                {
                    throw new ConnetProtocolException(ConnetErrorCode.Unknown,
                        $"the {bodyLength}-byte frame is not a valid {typeof(TMessage).Name}: {invalid.Message}", invalid);
                }

                return message;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(body, clearArray: true);
            }
        }
        catch (QuicException quicException) when (ConnetError.FromApplicationError(quicException) is { } connetException)
        {
            throw connetException;
        }
    }

    /// <summary>
    /// True for a failure of the peer's own making (garbage, an oversized or truncated frame) rather than a connet
    /// error code it sent: after one, nothing more on that connection can be trusted.
    /// </summary>
    public static bool IsFramingViolation(ConnetProtocolException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.Code == ConnetErrorCode.Unknown && exception.InnerException is not QuicException;
    }

    /// <summary>Reads the length prefix: null on a clean end of stream, else the validated body length.</summary>
    private static async ValueTask<int?> ReadPrefixAsync(Stream stream, int prefixLength, WireVersion version, int maxSize, string messageName, CancellationToken cancellationToken)
    {
        var prefix = ArrayPool<byte>.Shared.Rent(LongestPrefixLength);
        try
        {
            var read = await stream.ReadAtLeastAsync(prefix.AsMemory(0, prefixLength), prefixLength, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            if (read < prefixLength)
            {
                throw new ConnetProtocolException(ConnetErrorCode.Unknown,
                    $"stream ended after {read} of the {prefixLength} length-prefix bytes of a {messageName} frame");
            }

            // Read as uint64 for both widths so a legacy length beyond 2^63 is not mistaken for a small negative one.
            var declared = version == WireVersion.Legacy
                ? BinaryPrimitives.ReadUInt64BigEndian(prefix)
                : BinaryPrimitives.ReadUInt32BigEndian(prefix);
            if (declared > (ulong)maxSize)
            {
                throw new ConnetProtocolException(ConnetErrorCode.Unknown,
                    $"{messageName} frame declares {declared} bytes, more than the {maxSize}-byte limit for it");
            }

            return (int)declared;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(prefix);
        }
    }

    private static void WritePrefix(Span<byte> destination, int size, WireVersion version)
    {
        if (version == WireVersion.Legacy)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination, (ulong)size);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)size);
        }
    }
}
