using System.Buffers.Binary;
using Connet.Core.Protocol;
using Connet.Quic;
using Google.Protobuf;

namespace Connet.Relay;

/// <summary>
/// Reads one connet frame like <see cref="MessageFraming.ReadAsync{TMessage}"/> but with a far smaller size cap.
/// Everything a client sends the relay before splicing (AuthenticateReq, peer.Request) is well under a kilobyte,
/// while MessageFraming accepts 16 MiB; this keeps an unauthenticated client from making the relay buffer megabytes.
/// </summary>
internal static class BoundedFraming
{
    /// <summary>Generous for a sealed ClientAuthentication or a Connect with TLS and dhxcp settings.</summary>
    public const int MaxControlMessageSize = 64 * 1024;

    /// <exception cref="ConnetProtocolException">The frame is larger than <paramref name="maxSize"/>, truncated or not a <typeparamref name="TMessage"/> (code Unknown), or the peer aborted with a connet code.</exception>
    public static async ValueTask<TMessage?> ReadAsync<TMessage>(Stream stream, WireVersion version, int maxSize, CancellationToken cancellationToken)
        where TMessage : class, IMessage<TMessage>, new()
    {
        int prefixLength = MessageFraming.PrefixLength(version);
        byte[] prefix = new byte[prefixLength];
        try
        {
            int read = await stream.ReadAtLeastAsync(prefix, prefixLength, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            if (read < prefixLength)
            {
                throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"stream ended after {read} of the {prefixLength} length-prefix bytes of a {typeof(TMessage).Name} frame");
            }

            ulong declared = version == WireVersion.Legacy ? BinaryPrimitives.ReadUInt64BigEndian(prefix) : BinaryPrimitives.ReadUInt32BigEndian(prefix);
            if (declared > (ulong)maxSize)
            {
                throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"{typeof(TMessage).Name} frame declares {declared} bytes, more than the relay's {maxSize}-byte limit for it");
            }

            byte[] body = new byte[(int)declared];
            read = await stream.ReadAtLeastAsync(body, body.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read < body.Length)
            {
                throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"stream ended after {read} of the {body.Length} body bytes of a {typeof(TMessage).Name} frame");
            }

            var message = new TMessage();
            try
            {
                message.MergeFrom(body);
            }
            catch (InvalidProtocolBufferException invalid)
            {
                throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"the {body.Length}-byte frame is not a valid {typeof(TMessage).Name}: {invalid.Message}", invalid);
            }

            return message;
        }
        catch (QuicException quicException) when (ConnetError.FromApplicationError(quicException) is { } connetException)
        {
            throw connetException;
        }
    }

    /// <summary>
    /// True for a failure of the peer's own making (garbage, an oversized or truncated frame) rather than a QUIC
    /// error code it sent: after one the connection cannot be trusted any more.
    /// </summary>
    public static bool IsFramingViolation(ConnetProtocolException exception) =>
        exception.Code == ConnetErrorCode.Unknown && exception.InnerException is not QuicException;
}
