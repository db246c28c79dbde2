using System.Security.Claims;
using System.Security.Cryptography;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Platform.TaskStore.Access;

namespace Platform.Api.Access;

/// <summary>Authentication (Platform tokens, the identity provider's JWTs, mesh identity), the caller's roles, and per-caller limits.</summary>
internal static class AccessRegistration
{
    public static IHostApplicationBuilder AddAccess(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AccessOptions>().Bind(builder.Configuration.GetSection(AccessOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => !o.Jwt.Enabled || o.Jwt.Audiences.Length > 0, "Access:Jwt:Audiences must name at least one audience when Access:Jwt:Issuer is set.")
            .Validate(o => !o.Jwt.Enabled || o.Jwt.SigningKeys.Length > 0 || !string.IsNullOrWhiteSpace(o.Jwt.Authority) || !string.IsNullOrWhiteSpace(o.Jwt.JwksUri),
                "Access:Jwt needs SigningKeys, a JwksUri or an Authority (whose discovery document names the signing keys) when Issuer is set.")
            .Validate(o => string.IsNullOrWhiteSpace(o.Jwt.JwksUri) || JwksRetriever.Trusted(o.Jwt.JwksUri),
                "Access:Jwt:JwksUri must be an absolute https:// address (http:// only on a loopback address).")
            .Validate(o => o.Mesh.Kind is "Istio" or "Linkerd", "Access:Mesh:Kind must be Istio or Linkerd.")
            .ValidateOnStart();
        var options = builder.Configuration.GetSection(AccessOptions.Section).Get<AccessOptions>() ?? new AccessOptions();

        builder.Services.AddMemoryCache();
        builder.Services.AddScoped<Caller>();
        builder.Services.AddHostedService<AdminBootstrap>();

        var authentication = builder.Services.AddAuthentication(PlatformTokenHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, PlatformTokenHandler>(PlatformTokenHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, MeshIdentityHandler>(PlatformTokenHandler.MeshScheme, null);
        if (options.Jwt.Enabled) authentication.AddJwtBearer(PlatformTokenHandler.JwtScheme, jwt => ConfigureJwt(jwt, options.Jwt));
        builder.Services.AddAuthorization();

        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                var limits = http.RequestServices.GetRequiredService<IOptions<AccessOptions>>().Value.Limits;
                // Per caller: the authenticated subject, or the address of one that is not (yet).
                var caller = http.User.FindFirstValue(Caller.SubjectClaim) ?? "address:" + http.Connection.RemoteIpAddress;
                return limits.RequestsPerSecond == 0 || http.Request.Path.StartsWithSegments("/healthz") || http.Request.Path.StartsWithSegments("/metrics")
                    ? RateLimitPartition.GetNoLimiter(caller)
                    : RateLimitPartition.GetTokenBucketLimiter(caller, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = limits.Burst,
                        TokensPerPeriod = limits.RequestsPerSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    });
            });
            limiter.OnRejected = async (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString();
                await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = { Status = 429, Title = "Too many requests.", Detail = $"This caller's request rate limit was reached; retry after {retryAfter} s." },
                });
            };
        });
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel =>
            kestrel.Limits.MaxRequestBodySize = options.Limits.MaxRequestBodyBytes);
        return builder;
    }

    private static void ConfigureJwt(JwtBearerOptions jwt, JwtOptions options)
    {
        jwt.MapInboundClaims = false;
        if (!string.IsNullOrWhiteSpace(options.Authority)) jwt.Authority = options.Authority;
        else if (!string.IsNullOrWhiteSpace(options.JwksUri)) jwt.ConfigurationManager = JwksRetriever.Manager(options.JwksUri);
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = options.Issuer,
            ValidAudiences = options.Audiences,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            IssuerSigningKeys = options.SigningKeys.Select(SigningKey).ToList(),
        };
        jwt.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                var subject = context.Principal?.FindFirstValue(options.SubjectClaim);
                if (string.IsNullOrEmpty(subject))
                {
                    context.Fail($"The token has no '{options.SubjectClaim}' claim.");
                    return Task.CompletedTask;
                }
                context.Principal!.AddIdentity(new ClaimsIdentity(
                    [new Claim(Caller.SubjectClaim, Subjects.User(subject)), new Claim(Caller.MeansClaim, "jwt")], PlatformTokenHandler.JwtScheme));
                return Task.CompletedTask;
            },
        };
    }

    private static SecurityKey SigningKey(string pem)
    {
        if (pem.Contains("EC ", StringComparison.Ordinal) || pem.Contains("EC PUBLIC", StringComparison.Ordinal))
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (ArgumentException)
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
    }

    public static WebApplication UseAccess(this WebApplication app)
    {
        app.UseAuthentication();
        // Roles are loaded once per request, before the endpoint asks about any object.
        app.Use(async (http, next) =>
        {
            if (http.User.FindFirst(Caller.SubjectClaim) is not null)
                await http.RequestServices.GetRequiredService<Caller>().LoadAsync(http.User, http.RequestAborted);
            await next(http);
        });
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }
}
