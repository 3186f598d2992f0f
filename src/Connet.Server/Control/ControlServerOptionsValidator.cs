using System.Net;
using System.Security.Cryptography.X509Certificates;
using Connet.Core.Restrictions;
using Microsoft.Extensions.Options;

namespace Connet.Server.Control;

/// <summary>
/// Checks <see cref="ControlServerOptions"/> and returns every problem, each naming the property it is about
/// (as YARP's config validators do), so one start attempt shows the whole list.
/// </summary>
public sealed class ControlServerOptionsValidator : IValidateOptions<ControlServerOptions>
{
    /// <summary>All problems with <paramref name="options"/>; empty when they are usable.</summary>
    public static IReadOnlyList<string> Validate(ControlServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.ClientIngresses is not { Count: > 0 })
        {
            errors.Add($"{nameof(ControlServerOptions.ClientIngresses)}: at least one client ingress is required.");
        }
        else
        {
            for (var index = 0; index < options.ClientIngresses.Count; index++)
            {
                ValidateIngress(options.ClientIngresses[index], $"{nameof(ControlServerOptions.ClientIngresses)}[{index}]", errors);
            }
        }

        if (options.Tokens is not { Count: > 0 })
        {
            errors.Add($"{nameof(ControlServerOptions.Tokens)}: at least one client token is required.");
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var index = 0; index < options.Tokens.Count; index++)
            {
                ValidateToken(options.Tokens[index], $"{nameof(ControlServerOptions.Tokens)}[{index}]", seen, errors);
            }
        }

        ValidateRelays(options, errors);

        if (options.EndpointExpiry < TimeSpan.Zero)
        {
            errors.Add($"{nameof(ControlServerOptions.EndpointExpiry)}: must not be negative (TimeSpan.Zero disables the grace period); was {options.EndpointExpiry}.");
        }

        if (options.StoreDirectory is { } storeDirectory && string.IsNullOrWhiteSpace(storeDirectory))
        {
            errors.Add($"{nameof(ControlServerOptions.StoreDirectory)}: must be a directory path, or null to keep state in memory.");
        }

        return errors;
    }

    ValidateOptionsResult IValidateOptions<ControlServerOptions>.Validate(string? name, ControlServerOptions options)
    {
        var errors = Validate(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Throws one exception listing every problem.</summary>
    internal static void ThrowIfInvalid(ControlServerOptions options)
    {
        var errors = Validate(options);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(ControlServerOptions), errors);
        }
    }

    private static void ValidateIngress(ControlClientIngress? ingress, string path, List<string> errors)
    {
        if (ingress is null)
        {
            errors.Add($"{path}: must not be null.");
            return;
        }

        ValidateListener(ingress.Address, ingress.Certificate, path, errors);
        ValidateCidrs(ingress.AllowCidrs, ingress.DenyCidrs, path, errors);
    }

    private static void ValidateRelays(ControlServerOptions options, List<string> errors)
    {
        var ingresses = options.RelayIngresses ?? [];
        for (var index = 0; index < ingresses.Count; index++)
        {
            var path = $"{nameof(ControlServerOptions.RelayIngresses)}[{index}]";
            if (ingresses[index] is not { } ingress)
            {
                errors.Add($"{path}: must not be null.");
                continue;
            }

            ValidateListener(ingress.Address, ingress.Certificate, path, errors);
            ValidateCidrs(ingress.AllowCidrs, ingress.DenyCidrs, path, errors);
        }

        var tokens = options.RelayTokens ?? [];
        if (ingresses.Count > 0 && tokens.Count == 0)
        {
            errors.Add($"{nameof(ControlServerOptions.RelayTokens)}: at least one relay token is required when there is a relay ingress.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 0; index < tokens.Count; index++)
        {
            var path = $"{nameof(ControlServerOptions.RelayTokens)}[{index}]";
            if (tokens[index] is not { } token)
            {
                errors.Add($"{path}: must not be null.");
                continue;
            }

            if (string.IsNullOrEmpty(token.Token))
            {
                errors.Add($"{path}.{nameof(ControlRelayToken.Token)}: must not be empty.");
            }
            else if (!seen.Add(token.Token))
            {
                errors.Add($"{path}.{nameof(ControlRelayToken.Token)}: duplicates an earlier relay token.");
            }

            ValidateCidrs(token.AllowCidrs, token.DenyCidrs, path, errors);
        }
    }

    private static void ValidateListener(IPEndPoint? address, X509Certificate2? certificate, string path, List<string> errors)
    {
        if (address is null)
        {
            errors.Add($"{path}.Address: is required.");
        }

        if (certificate is null)
        {
            errors.Add($"{path}.Certificate: is required.");
        }
        else if (!certificate.HasPrivateKey)
        {
            errors.Add($"{path}.Certificate: has no private key.");
        }
    }

    private static void ValidateToken(ControlClientToken? token, string path, HashSet<string> seen, List<string> errors)
    {
        if (token is null)
        {
            errors.Add($"{path}: must not be null.");
            return;
        }

        if (string.IsNullOrEmpty(token.Token))
        {
            errors.Add($"{path}.{nameof(ControlClientToken.Token)}: must not be empty.");
        }
        else if (!seen.Add(token.Token))
        {
            // The secret itself is not repeated in the message.
            errors.Add($"{path}.{nameof(ControlClientToken.Token)}: duplicates an earlier token.");
        }

        var restriction = token.Restriction;
        var restrictionPath = $"{path}.{nameof(ControlClientToken.Restriction)}";
        if (restriction is null)
        {
            errors.Add($"{restrictionPath}: must not be null (use an empty restriction for none).");
            return;
        }

        ValidateCidrs(restriction.AllowCidrs, restriction.DenyCidrs, restrictionPath, errors);
        try
        {
            NameRestriction.Parse(restriction.NameMatches);
        }
        catch (FormatException invalid)
        {
            errors.Add($"{restrictionPath}.{nameof(ControlTokenRestriction.NameMatches)}: {invalid.Message}");
        }

        try
        {
            RoleRestriction.Parse(restriction.RoleMatches);
        }
        catch (FormatException invalid)
        {
            errors.Add($"{restrictionPath}.{nameof(ControlTokenRestriction.RoleMatches)}: {invalid.Message}");
        }
    }

    private static void ValidateCidrs(List<string>? allows, List<string>? denies, string path, List<string> errors)
    {
        ValidateCidrList(allows, $"{path}.AllowCidrs", errors);
        ValidateCidrList(denies, $"{path}.DenyCidrs", errors);
    }

    private static void ValidateCidrList(List<string>? cidrs, string path, List<string> errors)
    {
        if (cidrs is null)
        {
            return;
        }

        for (var index = 0; index < cidrs.Count; index++)
        {
            try
            {
                IPRestriction.ParseCidr(cidrs[index]);
            }
            catch (Exception invalid) when (invalid is FormatException or ArgumentNullException)
            {
                errors.Add($"{path}[{index}]: {invalid.Message}");
            }
        }
    }
}
