import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsIP,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { NAME_RE } from '../routes/routes.dto';

export class EndpointDto {
  @ApiProperty({ example: '127.0.0.1', description: 'An IPv4 or IPv6 address' })
  @IsIP(undefined, { message: 'address must be an IPv4 or IPv6 address' })
  address!: string;

  @ApiProperty({ example: 7100 })
  @IsInt()
  @Min(1)
  @Max(65_535)
  port!: number;
}

export class UpstreamBodyDto {
  @ApiProperty({ type: [EndpointDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @ValidateNested({ each: true })
  @Type(() => EndpointDto)
  endpoints!: EndpointDto[];

  @ApiPropertyOptional({ example: 1000, description: '10 ms – 30 s (default 1 s)' })
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(30_000)
  connectTimeoutMs?: number;
}

export class CreateUpstreamDto extends UpstreamBodyDto {
  @ApiProperty({ example: 'widgets', description: 'Cluster name, unique on the node' })
  @IsString()
  @Matches(NAME_RE, { message: 'name must match [a-z][a-z0-9_-]{0,62}' })
  name!: string;
}

export class UpstreamDto {
  @ApiProperty() nodeId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: [EndpointDto] }) endpoints!: EndpointDto[];
  @ApiProperty() connectTimeoutMs!: number;
  @ApiProperty() updatedAt!: string;
}
