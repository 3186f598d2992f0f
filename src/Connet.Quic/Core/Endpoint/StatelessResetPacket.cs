namespace Connet.Quic.Core.Endpoint;

/// <summary>Writes Stateless Reset datagrams (RFC 9000 §10.3): random bytes shaped like a short header, token last.</summary>
internal static class StatelessResetPacket
{
    /// <summary>The smallest reset: 5 bytes that pass for a short header (1 + 4 unpredictable) and the 16-byte token.</summary>
    public const int MinLength = 21;

    /// <summary>Triggers shorter than this get no reply, so a reset is always shorter than its trigger yet still plausible.</summary>
    public const int MinTriggerLength = 43;

    /// <summary>Our resets never exceed this, whatever the trigger size, to limit what an off-path sender can amplify.</summary>
    public const int MaxLength = 64;

    /// <summary>The reset length to answer a <paramref name="triggerLength"/>-byte datagram with, or 0 for none.</summary>
    public static int ChooseLength(int triggerLength, RandomSource random)
    {
        if (triggerLength < MinTriggerLength)
        {
            return 0;
        }

        int ceiling = Math.Min(triggerLength - 1, MaxLength);

        // A little length jitter so resets do not all share one telltale size.
        return ceiling - random.Next(Math.Min(8, ceiling - MinLength + 1));
    }

    public static void Write(Span<byte> destination, StatelessResetToken token, RandomSource random)
    {
        if (destination.Length < MinLength)
        {
            throw new ArgumentException("A stateless reset is at least 21 bytes.", nameof(destination));
        }

        random.Fill(destination[..^StatelessResetToken.Length]);
        destination[0] = (byte)(InvariantHeader.FixedBit | (destination[0] & 0x3F));
        token.CopyTo(destination[^StatelessResetToken.Length..]);
    }
}
